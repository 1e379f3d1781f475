//! The letters and digits every match of a pattern contains, read from its text: a prefilter
//! that answers "cannot match" for most street lines without running the pattern (a PO-box
//! alternation on an ordinary street line is the costliest step of validation otherwise).
//!
//! Letters compare case-folded ([`fold`]). The sets only ever under-state what a match needs
//! (a class counts only when all its characters fold to one letter; an alternation needs what
//! all its branches need; an optional part needs nothing), so a line the prefilter turns away
//! can never have matched. The reader knows the syntax the bundled patterns use (literals,
//! escapes, classes, groups, alternations, quantifiers); anything else makes it give up (None:
//! the pattern then runs on every line). Its own reader, not regex-syntax: that crate's Unicode
//! tables would add half a megabyte to every binary.

/// A character as the prefilter compares it: upper- then lower-cased, so `S`, `s` and `ſ` are
/// one letter (and `ß`, whose upper case is `SS`, folds to `s`: too many matches, never too few).
pub fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    // Both case mappings yield at least one character; the fallbacks are never taken.
    let up = c.to_uppercase().next().unwrap_or(c);
    up.to_lowercase().next().unwrap_or(up)
}

/// A set of folded characters: ASCII letters and digits as bits, anything else listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Letters {
    ascii: u64,
    other: Vec<char>,
}

impl Letters {
    fn insert(&mut self, c: char) {
        let c = fold(c);
        match c {
            'a'..='z' => self.ascii |= 1 << (c as u32 - 'a' as u32),
            '0'..='9' => self.ascii |= 1 << (26 + c as u32 - '0' as u32),
            // Spaces and punctuation are left out: the pattern's classes (`\s`, `\.?`) decide
            // those, and a line's letters are what tell it apart.
            c if c.is_alphanumeric() && !self.other.contains(&c) => self.other.push(c),
            _ => {}
        }
    }

    /// The folded letters and digits of `text`.
    pub fn of_text(text: &str) -> Self {
        let mut out = Self::default();
        for c in text.chars() {
            out.insert(c);
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.ascii == 0 && self.other.is_empty()
    }

    /// Whether every character of `needed` is in `self`.
    pub fn contains_all(&self, needed: &Letters) -> bool {
        self.ascii & needed.ascii == needed.ascii && needed.other.iter().all(|c| self.other.contains(c))
    }

    fn union(mut self, other: Letters) -> Self {
        self.ascii |= other.ascii;
        for c in other.other {
            if !self.other.contains(&c) {
                self.other.push(c);
            }
        }
        self
    }

    fn intersection(self, other: &Letters) -> Self {
        Self {
            ascii: self.ascii & other.ascii,
            other: self.other.into_iter().filter(|c| other.other.contains(c)).collect(),
        }
    }
}

/// The letters every match of `pattern` contains (case-insensitively); None when the pattern
/// uses syntax this reader does not know (the caller then runs the pattern on every line).
pub fn required_letters(pattern: &str) -> Option<Letters> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut at = 0;
    let out = alternation(&chars, &mut at)?;
    // Everything read, or the pattern has a `)` it never opened.
    (at == chars.len()).then_some(out)
}

/// Branches separated by `|`, up to a `)` or the end: what all of them need.
fn alternation(p: &[char], at: &mut usize) -> Option<Letters> {
    let mut all = sequence(p, at)?;
    while p.get(*at) == Some(&'|') {
        *at += 1;
        all = all.intersection(&sequence(p, at)?);
    }
    Some(all)
}

/// Atoms one after another, each with its quantifier: what each needs, together.
fn sequence(p: &[char], at: &mut usize) -> Option<Letters> {
    let mut needs = Letters::default();
    while let Some(&c) = p.get(*at) {
        if c == '|' || c == ')' {
            break;
        }
        let atom = atom(p, at)?;
        if quantifier_allows_none(p, at)? {
            continue;
        }
        needs = needs.union(atom);
    }
    Some(needs)
}

/// One atom at `at`: a literal, an escape, a class or a group.
fn atom(p: &[char], at: &mut usize) -> Option<Letters> {
    let c = *p.get(*at)?;
    *at += 1;
    let mut one = Letters::default();
    match c {
        '(' => {
            if p.get(*at) == Some(&'?') {
                // `(?:...)` a group; `(?i)` a flag (case is folded here anyway); nothing else.
                match (p.get(*at + 1), p.get(*at + 2)) {
                    (Some(':'), _) => *at += 2,
                    (Some('i'), Some(')')) => {
                        *at += 3;
                        return Some(one);
                    }
                    _ => return None,
                }
            }
            let inner = alternation(p, at)?;
            (p.get(*at) == Some(&')')).then_some(())?;
            *at += 1;
            Some(inner)
        }
        '[' => class(p, at),
        '\\' => {
            let e = *p.get(*at)?;
            *at += 1;
            match e {
                // Looks and classes: nothing a line must hold.
                'b' | 'B' | 's' | 'S' | 'd' | 'D' | 'w' | 'W' | 'A' | 'z' | 'n' | 'r' | 't' => Some(one),
                e if e.is_ascii_punctuation() || e == ' ' => Some(one),
                // `\p{..}`, `\x..` and the like: not known here.
                _ => None,
            }
        }
        '^' | '$' | '.' => Some(one),
        ')' | '|' | '?' | '*' | '+' | '{' | ']' => None,
        c => {
            one.insert(c);
            Some(one)
        }
    }
}

/// `[...]` after its `[`: one folded letter when every character in it folds to that letter.
fn class(p: &[char], at: &mut usize) -> Option<Letters> {
    let mut members: Vec<char> = Vec::new();
    let mut single = p.get(*at) != Some(&'^');
    let mut first = true;
    loop {
        let c = *p.get(*at)?;
        *at += 1;
        match c {
            ']' if !first => break,
            '\\' => {
                // An escape in a class (`\s`, `\d`, `\.`): more than one letter, or none.
                p.get(*at)?;
                *at += 1;
                single = false;
            }
            '-' if !first && p.get(*at) != Some(&']') => single = false,
            c => members.push(c),
        }
        first = false;
    }
    let mut one = Letters::default();
    if let Some(&f) = members.first() {
        let letter = fold(f);
        if single && letter.is_alphanumeric() && members.iter().all(|c| fold(*c) == letter) {
            one.insert(letter);
        }
    }
    Some(one)
}

/// Reads a quantifier after an atom: true when it lets the atom match nothing (`?`, `*`,
/// `{0,..}`); None when it is malformed.
fn quantifier_allows_none(p: &[char], at: &mut usize) -> Option<bool> {
    let none = match p.get(*at) {
        Some('?') | Some('*') => {
            *at += 1;
            true
        }
        Some('+') => {
            *at += 1;
            false
        }
        Some('{') => {
            let close = p[*at..].iter().position(|c| *c == '}')? + *at;
            let body: String = p[*at + 1..close].iter().collect();
            let min: u32 = body.split(',').next()?.trim().parse().ok()?;
            *at = close + 1;
            min == 0
        }
        _ => return Some(false),
    };
    // A lazy quantifier's `?`.
    if p.get(*at) == Some(&'?') {
        *at += 1;
    }
    Some(none)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_syntax::hir::{Class, Hir, HirKind};

    /// What regex-syntax's reading of `pattern` says every match needs: the oracle the reader
    /// here may never claim more than.
    fn required_by_syntax(hir: &Hir) -> Letters {
        let single = |class: &Class| -> Option<char> {
            let chars: Vec<char> = match class {
                Class::Unicode(u) => u.iter().flat_map(|r| r.start()..=r.end()).take(16).collect(),
                Class::Bytes(b) => b.iter().flat_map(|r| r.start()..=r.end()).map(char::from).take(16).collect(),
            };
            let first = fold(*chars.first()?);
            (chars.len() < 16 && chars.iter().all(|c| fold(*c) == first)).then_some(first)
        };
        match hir.kind() {
            HirKind::Literal(lit) => std::str::from_utf8(&lit.0).map(Letters::of_text).unwrap_or_default(),
            HirKind::Class(class) => single(class).map_or_else(Letters::default, |c| Letters::of_text(&c.to_string())),
            HirKind::Repetition(rep) if rep.min >= 1 => required_by_syntax(&rep.sub),
            HirKind::Capture(cap) => required_by_syntax(&cap.sub),
            HirKind::Concat(parts) => parts.iter().map(required_by_syntax).fold(Letters::default(), Letters::union),
            HirKind::Alternation(branches) => {
                let mut sets = branches.iter().map(required_by_syntax);
                let first = sets.next().unwrap_or_default();
                sets.fold(first, |acc, s| acc.intersection(&s))
            }
            _ => Letters::default(),
        }
    }

    fn letters(s: &str) -> Letters {
        Letters::of_text(s)
    }

    #[test]
    fn a_pattern_needs_its_literal_letters_and_no_optional_or_alternative_ones() {
        assert_eq!(required_letters(r"\bP\.?\s*O\.?\s*BOX\b"), Some(letters("pobox")));
        assert_eq!(required_letters(r"^\s*BOX\s*#?\s*\d+"), Some(letters("box")));
        assert_eq!(required_letters(r"\bAPARTADO(\s+POSTAL)?\b"), Some(letters("apartado")));
        assert_eq!(required_letters(r"\bPO[SŠš]TANSKI\s+FAH\b"), Some(letters("potanskifah")), "Š is not S");
        assert_eq!(required_letters(r"[Пп][Оо][Шш]"), Some(letters("пош")));
        assert_eq!(required_letters(r"POSTFACH|POSTBOX"), Some(letters("post")));
        assert_eq!(required_letters("私書箱"), Some(letters("私書箱")));
        assert_eq!(required_letters(r"\d+"), Some(Letters::default()));
        assert_eq!(required_letters(r"(?i)BOX{2,}|BOX{0,3}"), Some(letters("bo")));
        assert_eq!(required_letters(r"[A-Z]OX[^B]"), Some(letters("ox")));
        for unknown in [r"(unclosed", r"closed)", r"\p{L}BOX", r"(?P<n>BOX)", r"BOX{2"] {
            assert_eq!(required_letters(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn folding_makes_cases_one_letter() {
        assert_eq!(fold('S'), 's');
        assert_eq!(fold('ſ'), 's');
        assert_eq!(fold('Ш'), 'ш');
        assert_eq!(fold('\u{212A}'), 'k', "the Kelvin sign");
        assert!(letters("P.O. Box 12").contains_all(&letters("pobox")));
        assert!(!letters("100 Cedar Glen Dr").contains_all(&letters("pobox")));
        assert!(letters("ПОШТА").contains_all(&letters("пош")));
    }

    /// A line `hir` may match, chosen by `seed` (looks are left to the oracle to judge).
    fn sample(hir: &Hir, seed: &mut u64, out: &mut String) {
        let mut next = |n: usize| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            usize::try_from(*seed % n.max(1) as u64).unwrap_or(0)
        };
        match hir.kind() {
            HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
            HirKind::Class(Class::Unicode(u)) => {
                let ranges: Vec<_> = u.iter().collect();
                let r = ranges[next(ranges.len())];
                let span = (r.end() as u32 - r.start() as u32) as usize + 1;
                let c = char::from_u32(r.start() as u32 + next(span.min(64)) as u32).unwrap_or(r.start());
                out.push(c);
            }
            HirKind::Class(Class::Bytes(b)) => {
                let ranges: Vec<_> = b.iter().collect();
                out.push(char::from(ranges[next(ranges.len())].start()));
            }
            HirKind::Repetition(rep) => {
                let extra = next(3) as u32;
                let n = rep.max.map_or(rep.min + extra, |max| (rep.min + extra).min(max));
                for _ in 0..n {
                    sample(&rep.sub, seed, out);
                }
            }
            HirKind::Capture(cap) => sample(&cap.sub, seed, out),
            HirKind::Concat(parts) => parts.iter().for_each(|p| sample(p, seed, out)),
            HirKind::Alternation(branches) => {
                let i = next(branches.len());
                sample(&branches[i], seed, out)
            }
            _ => {}
        }
    }

    /// Every PO-box pattern of the bundled table: lines built from the pattern itself that the
    /// pattern (as validation compiles it) matches always pass the prefilter.
    #[test]
    fn no_line_a_po_box_pattern_matches_is_turned_away() {
        let rules = crate::validation::address::AddressRules::bundled();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let (mut matched, mut turned_away) = (0, 0);
        for code in rules.codes() {
            let country = rules.country(code).expect("listed");
            for p in &country.rules.po_box_patterns {
                let re = regex_lite::Regex::new(&format!("(?i){p}")).expect("compiles");
                let needed = required_letters(p).expect("the reader knows the bundled syntax");
                let hir = regex_syntax::ParserBuilder::new().case_insensitive(true).build().parse(p).expect("parses");
                assert!(
                    required_by_syntax(&hir).contains_all(&needed),
                    "{code} {p:?}: {needed:?} claims more than the syntax needs"
                );
                for i in 0..200 {
                    let mut line = String::new();
                    sample(&hir, &mut seed, &mut line);
                    let line = match i % 3 {
                        0 => line,
                        1 => format!("{line} 12"),
                        _ => format!("Apt 4, {}", line.to_lowercase()),
                    };
                    if re.is_match(&line) {
                        matched += 1;
                        if !Letters::of_text(&line).contains_all(&needed) {
                            turned_away += 1;
                            eprintln!("{code} {p:?}: {line:?} matches but needs {needed:?}");
                        }
                    }
                }
                assert!(!needed.is_empty() || p.is_empty(), "{code} {p:?} filters nothing");
            }
        }
        assert_eq!(turned_away, 0);
        assert!(matched > 10_000, "only {matched} lines matched: the sampler is off");
    }
}
