//! Supplier calendars: an order cut-off in the supplier's own time zone, its working days and
//! holidays. From them: the day a purchase order is processed, when it must ship by, and when it
//! can arrive. Pure date arithmetic, no I/O; the routing engine uses it for ship-by promises.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A supplier's working calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierCalendar {
    pub time_zone: Tz,
    /// Orders received before this local time on a working day are processed that day.
    pub cutoff: NaiveTime,
    pub working_days: Vec<Weekday>,
    pub holidays: Vec<NaiveDate>,
    /// The last ship-by computed, and the span of order times it holds for.
    memo: ShipByMemo,
}

/// A remembered `ship_by_day`: every order received in `[from, until)` with `handling_days`
/// gets the same answer (the processing day only changes at the cut-off or at local midnight),
/// so a function routing many orders in a row works the calendar out once per span. Not part
/// of the calendar's identity: clones start empty and all memos compare equal.
#[derive(Default)]
struct ShipByMemo(std::sync::Mutex<Option<Memo>>);

#[derive(Clone, Copy)]
struct Memo {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    handling_days: u32,
    answer: (DateTime<Utc>, NaiveDate),
}

impl Clone for ShipByMemo {
    fn clone(&self) -> Self {
        Self::default()
    }
}
impl PartialEq for ShipByMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for ShipByMemo {}
impl std::fmt::Debug for ShipByMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShipByMemo")
    }
}

/// Why a calendar could not be read; names the part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("time_zone: {0:?} is not an IANA time zone (such as America/Los_Angeles)")]
    TimeZone(String),
    #[error("cutoff: {0:?} is not a time of day (HH:MM)")]
    Cutoff(String),
    #[error("working_days: {0:?} is not a weekday (mon, tue, ...)")]
    Weekday(String),
    #[error("working_days: a calendar needs at least one working day")]
    NoWorkingDay,
    #[error("holidays: {0:?} is not a date (YYYY-MM-DD)")]
    Holiday(String),
}

impl SupplierCalendar {
    /// Reads a calendar: an IANA zone, a cut-off `HH:MM`, working days (`mon`..`sun`), holidays.
    pub fn parse(
        time_zone: &str,
        cutoff: &str,
        working_days: &[&str],
        holidays: &[&str],
    ) -> Result<Self, CalendarError> {
        let time_zone: Tz = time_zone.trim().parse().map_err(|_| CalendarError::TimeZone(time_zone.to_string()))?;
        let cutoff =
            NaiveTime::parse_from_str(cutoff.trim(), "%H:%M").map_err(|_| CalendarError::Cutoff(cutoff.to_string()))?;
        let mut days = Vec::new();
        for d in working_days {
            let w: Weekday = d.trim().parse().map_err(|_| CalendarError::Weekday(d.to_string()))?;
            if !days.contains(&w) {
                days.push(w);
            }
        }
        if days.is_empty() {
            return Err(CalendarError::NoWorkingDay);
        }
        let mut hs = Vec::new();
        for h in holidays {
            hs.push(
                NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d").map_err(|_| CalendarError::Holiday(h.to_string()))?,
            );
        }
        Ok(Self { time_zone, cutoff, working_days: days, holidays: hs, memo: ShipByMemo::default() })
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.working_days.contains(&d.weekday()) && !self.holidays.contains(&d)
    }

    /// The next working day on or after `d` (a calendar always has a working day; holidays are
    /// finite, so this ends).
    fn on_or_after(&self, mut d: NaiveDate) -> NaiveDate {
        while !self.is_working_day(d) {
            match d.succ_opt() {
                Some(n) => d = n,
                None => return d,
            }
        }
        d
    }

    /// `n` working days after the working day `d`.
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut d = self.on_or_after(d);
        for _ in 0..n {
            d = self.on_or_after(d.succ_opt().unwrap_or(d));
        }
        d
    }

    /// The working day on which the supplier processes an order received at `at`: that day when
    /// it is a working day and `at` is before the cut-off (local time), else the next one.
    pub fn processing_day(&self, at: DateTime<Utc>) -> NaiveDate {
        self.processing_day_at(&at.with_timezone(&self.time_zone))
    }

    /// `processing_day` for a time already in the supplier's zone.
    fn processing_day_at(&self, local: &DateTime<Tz>) -> NaiveDate {
        let day = local.date_naive();
        if self.is_working_day(day) && local.time() < self.cutoff {
            day
        } else {
            self.on_or_after(day.succ_opt().unwrap_or(day))
        }
    }

    /// When an order received at `at` must have shipped, with `handling_days` working days of
    /// handling (0: the processing day itself): the end of that working day, local time.
    pub fn ship_by(&self, at: DateTime<Utc>, handling_days: u32) -> DateTime<Utc> {
        self.ship_by_day(at, handling_days).0
    }

    /// `ship_by`, with the local day it ends.
    pub fn ship_by_day(&self, at: DateTime<Utc>, handling_days: u32) -> (DateTime<Utc>, NaiveDate) {
        let memo = self.memo.0.lock().ok().and_then(|m| *m);
        if let Some(m) = memo
            && m.handling_days == handling_days
            && m.from <= at
            && at < m.until
        {
            return m.answer;
        }
        let local = at.with_timezone(&self.time_zone);
        let today = local.date_naive();
        let day = self.add_working_days(self.processing_day_at(&local), handling_days);
        let answer = (self.end_of(day), day);
        // The answer holds from `at` until the cut-off (when `at` is before it) or the end of
        // the local day, whichever comes first.
        let midnight = self.end_of(today) + Duration::seconds(1);
        let cutoff = (local.time() < self.cutoff)
            .then(|| self.time_zone.from_local_datetime(&NaiveDateTime::new(today, self.cutoff)).earliest())
            .flatten()
            .map(|t| t.with_timezone(&Utc));
        let until = cutoff.map_or(midnight, |c| c.min(midnight));
        if let Ok(mut m) = self.memo.0.lock() {
            *m = Some(Memo { from: at, until, handling_days, answer });
        }
        answer
    }

    /// The last instant of a local day, in UTC (the day's start can fall in a DST gap; its end
    /// is always well defined as the start of the next day less one second).
    pub fn end_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let next = day.succ_opt().unwrap_or(day);
        self.start_of(next) - Duration::seconds(1)
    }

    fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = NaiveDateTime::new(day, NaiveTime::MIN);
        match self.time_zone.from_local_datetime(&midnight) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            // Midnight skipped by a DST change: the day starts an hour later.
            LocalResult::None => self
                .time_zone
                .from_local_datetime(&(midnight + Duration::hours(1)))
                .earliest()
                .map_or_else(|| Utc.from_utc_datetime(&midnight), |t| t.with_timezone(&Utc)),
        }
    }
}

/// When a parcel that leaves on the local day `shipped` (its supplier's ship-by day) can arrive:
/// `transit` (fewest, most) carrier business days (Monday to Friday) after it.
pub fn delivery_window(shipped: NaiveDate, transit: (u32, u32)) -> (NaiveDate, NaiveDate) {
    let (lo, hi) = (transit.0.min(transit.1), transit.0.max(transit.1));
    (business_days_after(shipped, lo), business_days_after(shipped, hi))
}

fn is_business_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The `n`-th carrier business day (Monday to Friday) after `d`; `d` itself for 0. Whole weeks
/// at once: any seven days in a row hold exactly five business days.
fn business_days_after(d: NaiveDate, n: u32) -> NaiveDate {
    if n == 0 {
        return d;
    }
    let weeks = (n - 1) / 5;
    let mut day = d.checked_add_days(chrono::Days::new(u64::from(weeks) * 7)).unwrap_or(d);
    let mut left = n - weeks * 5;
    while left > 0 {
        match day.succ_opt() {
            Some(next) => day = next,
            None => return day,
        }
        if is_business_day(day) {
            left -= 1;
        }
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    const WEEK: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];

    #[test]
    fn the_remembered_ship_by_is_the_computed_one_at_every_moment() {
        // New York across the end of daylight saving time (1 Nov 2026), a holiday and weekends.
        let ny = SupplierCalendar::parse("America/New_York", "15:00", &WEEK, &["2026-11-03"]).unwrap();
        for handling in [0, 2] {
            let mut t = utc("2026-10-29T00:00:00Z");
            while t < utc("2026-11-08T00:00:00Z") {
                let fresh = ny.clone(); // a clone starts with nothing remembered
                assert_eq!(ny.ship_by_day(t, handling), fresh.ship_by_day(t, handling), "{t} +{handling}");
                t += Duration::minutes(17);
            }
        }
        // Just before and at the cut-off.
        let before = utc("2026-11-05T19:59:59Z");
        assert_eq!(ny.ship_by(before, 0), utc("2026-11-06T04:59:59Z"), "Thursday");
        assert_eq!(ny.ship_by(before + Duration::seconds(1), 0), utc("2026-11-07T04:59:59Z"), "Friday");
    }

    #[test]
    fn calendars_are_read_with_errors_naming_the_part() {
        assert!(SupplierCalendar::parse("America/Los_Angeles", "14:00", &WEEK, &["2026-12-25"]).is_ok());
        let e = |r: Result<SupplierCalendar, CalendarError>| r.unwrap_err().to_string();
        assert!(e(SupplierCalendar::parse("Mars/Olympus", "14:00", &WEEK, &[])).starts_with("time_zone"));
        assert!(e(SupplierCalendar::parse("UTC", "2pm", &WEEK, &[])).starts_with("cutoff"));
        assert!(e(SupplierCalendar::parse("UTC", "14:00", &["funday"], &[])).starts_with("working_days"));
        assert!(e(SupplierCalendar::parse("UTC", "14:00", &[], &[])).contains("at least one"));
        assert!(e(SupplierCalendar::parse("UTC", "14:00", &WEEK, &["25/12/2026"])).starts_with("holidays"));
    }

    #[test]
    fn cut_off_is_in_the_suppliers_time_zone_and_weekends_wait() {
        let la = SupplierCalendar::parse("America/Los_Angeles", "14:00", &WEEK, &[]).unwrap();
        // Friday 13:30 in Los Angeles (21:30 UTC): before the cut-off, processed Friday.
        let before = utc("2026-11-20T21:30:00Z");
        assert_eq!(la.processing_day(before), date("2026-11-20"));
        assert_eq!(la.ship_by(before, 0), utc("2026-11-21T07:59:59Z"), "end of Friday, PST");
        assert_eq!(la.ship_by(before, 1), utc("2026-11-24T07:59:59Z"), "one working day later: Monday");
        // Friday 14:30 in Los Angeles: after the cut-off, processed Monday.
        let after = utc("2026-11-20T22:30:00Z");
        assert_eq!(la.processing_day(after), date("2026-11-23"));
        assert_eq!(la.ship_by(after, 1), utc("2026-11-25T07:59:59Z"), "Tuesday");
        // The same instant is already Saturday in Sydney: processed Monday there.
        let sydney = SupplierCalendar::parse("Australia/Sydney", "14:00", &WEEK, &[]).unwrap();
        assert_eq!(sydney.processing_day(before), date("2026-11-23"));
        assert_eq!(sydney.ship_by(before, 0), utc("2026-11-23T12:59:59Z"), "end of Monday, AEDT (UTC+11)");
    }

    #[test]
    fn holidays_and_custom_working_weeks() {
        let berlin = SupplierCalendar::parse("Europe/Berlin", "12:00", &WEEK, &["2026-12-25", "2026-12-26"]).unwrap();
        // Thursday 24 Dec, 10:00 CET: processed that day; one working day later skips Friday 25
        // (a holiday) and the weekend.
        let at = utc("2026-12-24T09:00:00Z");
        assert_eq!(berlin.ship_by(at, 1), utc("2026-12-28T22:59:59Z"));
        let six_days =
            SupplierCalendar::parse("Asia/Shanghai", "18:00", &["mon", "tue", "wed", "thu", "fri", "sat"], &[])
                .unwrap();
        // Friday after the cut-off (18:30 local = 10:30 UTC): processed Saturday, a working day there.
        assert_eq!(six_days.processing_day(utc("2026-11-20T10:30:00Z")), date("2026-11-21"));
        // Made to order: ten working days of handling.
        assert_eq!(six_days.add_working_days(date("2026-11-21"), 10), date("2026-12-03"));
    }

    #[test]
    fn daylight_saving_changes_keep_days_whole() {
        let ny = SupplierCalendar::parse("America/New_York", "15:00", &WEEK, &[]).unwrap();
        // Clocks go back on Sunday 1 Nov 2026; Friday 30 Oct ends at 04:00 UTC (EDT), Monday 2 Nov
        // at 05:00 UTC (EST).
        assert_eq!(ny.end_of(date("2026-10-30")), utc("2026-10-31T03:59:59Z"));
        assert_eq!(
            ny.ship_by(utc("2026-10-30T20:00:00Z"), 0),
            utc("2026-11-03T04:59:59Z"),
            "after the cut-off: Monday"
        );
        // A zone whose midnight disappears on its DST day (Santiago, first Sunday of September).
        let scl = SupplierCalendar::parse("America/Santiago", "15:00", &["sun"], &[]).unwrap();
        let end = scl.end_of(date("2026-09-05"));
        assert_eq!(end + Duration::seconds(1), scl.start_of(date("2026-09-06")));
    }

    #[test]
    fn delivery_windows_count_carrier_business_days() {
        let tz: Tz = "America/Chicago".parse().unwrap();
        // Shipped by Friday 20 Nov (end of day): 2-5 business days -> Tue 24 .. Fri 27 Nov.
        let ship_by = utc("2026-11-21T05:59:59Z");
        let shipped = ship_by.with_timezone(&tz).date_naive();
        assert_eq!(delivery_window(shipped, (2, 5)), (date("2026-11-24"), date("2026-11-27")));
        assert_eq!(delivery_window(shipped, (5, 2)), (date("2026-11-24"), date("2026-11-27")), "order of bounds");
        assert_eq!(delivery_window(shipped, (1, 1)).0, date("2026-11-23"), "next business day: Monday");
        // Whole weeks: 10 business days after Friday 20 Nov is Friday 4 Dec; 11 is Monday 7 Dec.
        let friday = date("2026-11-20");
        assert_eq!(delivery_window(friday, (10, 11)), (date("2026-12-04"), date("2026-12-07")));
        assert_eq!(delivery_window(friday, (0, 5)), (friday, date("2026-11-27")));
        let saturday = date("2026-11-21");
        assert_eq!(delivery_window(saturday, (1, 6)), (date("2026-11-23"), date("2026-11-30")));
        // The same as counting day by day, for every start day of a fortnight and up to 30 days.
        for start in 0..14 {
            let d = friday + Duration::days(start);
            for n in 0..30u32 {
                let mut day = d;
                let mut left = n;
                while left > 0 {
                    day = day.succ_opt().unwrap();
                    if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                        left -= 1;
                    }
                }
                assert_eq!(business_days_after(d, n), day, "{d} + {n}");
            }
        }
    }
}
