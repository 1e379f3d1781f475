//! Where Dropline's outbound HTTP may go. Supplier and carrier endpoints come from
//! configuration an attacker may influence (a catalog row, a feed), so a request must not reach
//! the function's own neighbourhood: loopback (Lambda's Runtime API listens there), private
//! networks, link-local (the instance metadata service at 169.254.169.254 / fd00:ec2::254),
//! carrier-grade NAT, multicast, documentation and reserved ranges. The check runs on the
//! addresses DNS returns (a public name pointing at 10.0.0.1 is refused) and on literal IPs;
//! redirects are never followed, and answers are read up to a size limit.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// What outbound requests may reach besides public addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Egress {
    /// Loopback too (`make dev`, tests with local stand-ins). Never in a deployed function:
    /// `DROPLINE_ALLOW_LOOPBACK_ENDPOINTS=1` is set only by the local runner and the tests.
    pub allow_loopback: bool,
}

impl Egress {
    pub const PUBLIC_ONLY: Egress = Egress { allow_loopback: false };
    pub const WITH_LOOPBACK: Egress = Egress { allow_loopback: true };

    /// From `DROPLINE_ALLOW_LOOPBACK_ENDPOINTS` (`1` or `true`); public only otherwise.
    pub fn from_env() -> Self {
        let on = std::env::var("DROPLINE_ALLOW_LOOPBACK_ENDPOINTS").is_ok_and(|v| v == "1" || v == "true");
        Self { allow_loopback: on }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        is_public(ip) || (self.allow_loopback && ip.is_loopback())
    }

    /// Checks a URL before a request: https (plain http only to an allowed loopback), and a
    /// literal IP host must be allowed (names are checked when they resolve).
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let host = parsed.host_str().ok_or("the URL has no host")?;
        let literal: Option<IpAddr> = host.trim_start_matches('[').trim_end_matches(']').parse().ok();
        if let Some(ip) = literal
            && !self.allows(ip)
        {
            return Err(format!("{ip} is not a public address"));
        }
        match parsed.scheme() {
            "https" => Ok(()),
            "http" if self.allow_loopback && literal.is_some_and(|ip| ip.is_loopback()) => Ok(()),
            "http" if self.allow_loopback && parsed.host_str() == Some("localhost") => Ok(()),
            other => Err(format!("{other}:// is not allowed; use https://")),
        }
    }
}

/// Whether `ip` is a globally reachable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let blocked = a == 0                               // "this network"
        || a == 10                                      // private
        || (a == 100 && (64..128).contains(&b))         // carrier-grade NAT
        || a == 127                                     // loopback
        || (a == 169 && b == 254)                       // link-local, instance metadata
        || (a == 172 && (16..32).contains(&b))          // private
        || (a == 192 && b == 0 && c == 0)               // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)               // documentation
        || (a == 192 && b == 88 && c == 99)             // 6to4 relay
        || (a == 192 && b == 168)                       // private
        || (a == 198 && (18..20).contains(&b))          // benchmarking
        || (a == 198 && b == 51 && c == 100)            // documentation
        || (a == 203 && b == 0 && c == 113)             // documentation
        || a >= 224; // multicast, reserved, broadcast
    !blocked
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let blocked = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00      // unique local (AWS metadata fd00:ec2::254)
        || (s[0] & 0xffc0) == 0xfe80      // link-local
        || (s[0] & 0xff00) == 0xff00      // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0); // discard-only
    !blocked
}

/// The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or
/// NAT64 (64:ff9b::a.b.c.d) address, which reach that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped = s[0..5].iter().all(|x| *x == 0) && s[5] == 0xffff;
    let compatible = s[0..6].iter().all(|x| *x == 0) && !ip.is_loopback() && !ip.is_unspecified();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0);
    (mapped || compatible || nat64).then_some(tail)
}

/// A DNS resolver that drops every address the egress policy does not allow, and fails the
/// lookup when none is left.
pub(super) struct CheckedResolver {
    pub(super) egress: Egress,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.egress;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| egress.allows(a.ip())).collect();
            if allowed.is_empty() {
                let e = std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host} resolves to no public address"),
                );
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Reads at most `limit` bytes of an answer; the rest is not read (nor kept).
pub async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn private_loopback_link_local_and_metadata_are_not_public() {
        for s in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "::10.0.0.1",
        ] {
            assert!(!is_public(ip(s)), "{s}");
        }
        for s in
            ["8.8.8.8", "1.1.1.1", "52.94.236.248", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]
        {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn urls_must_be_https_to_an_allowed_host() {
        let public = Egress::PUBLIC_ONLY;
        assert!(public.check_url("https://api.supplier.example/po").is_ok());
        assert!(public.check_url("http://api.supplier.example/po").is_err(), "plain http");
        assert!(public.check_url("https://169.254.169.254/latest/meta-data/").is_err());
        assert!(public.check_url("https://[::ffff:10.0.0.1]/").is_err());
        assert!(public.check_url("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next").is_err());
        assert!(public.check_url("file:///etc/passwd").is_err());
        let local = Egress::WITH_LOOPBACK;
        assert!(local.check_url("http://127.0.0.1:8080/po").is_ok());
        assert!(local.check_url("http://localhost:8080/po").is_ok());
        assert!(local.check_url("http://10.0.0.1/po").is_err(), "loopback only, not private networks");
    }
}
