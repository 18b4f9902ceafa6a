//! Sharing on the local network: this computer's LAN addresses, and the QR code a phone scans
//! to open a site.
//!
//! Read-only: it asks the OS for addresses and encodes text; binding on 0.0.0.0 is the site's
//! business (`site.rs`).

use std::net::Ipv4Addr;

use serde::Serialize;

/// A QR code: `width` × `width` modules, row-major, `1` dark and `0` light. Mirrors `QrCode`
/// in `ui/src/api/types.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrCode {
    /// The text encoded.
    pub text: String,
    /// Modules per side.
    pub width: usize,
    /// `width * width` characters, `1` for dark.
    pub modules: String,
}

/// The IPv4 addresses other devices on the network can reach this computer at: every
/// interface's, except loopback and link-local (169.254.x.x, which no router forwards).
/// Private addresses (192.168.x.x, 10.x.x.x, ...) come first, as the likeliest to work.
pub fn ipv4_addresses() -> Vec<Ipv4Addr> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(err) => {
            tracing::warn!("cannot list the network interfaces: {err}");
            return Vec::new();
        }
    };
    let mut addresses: Vec<Ipv4Addr> = interfaces
        .into_iter()
        .filter_map(|interface| match interface.addr {
            if_addrs::IfAddr::V4(v4) => Some(v4.ip),
            if_addrs::IfAddr::V6(_) => None,
        })
        .filter(|ip| !ip.is_loopback() && !ip.is_link_local() && !ip.is_unspecified())
        .collect();
    addresses.sort_by_key(|ip| (!ip.is_private(), *ip));
    addresses.dedup();
    addresses
}

/// Encodes `text` (a URL) as a QR code with the default error correction (M).
///
/// # Errors
/// The encoder's reason, when the text is too long for any QR version.
pub fn qr_code(text: &str) -> Result<QrCode, String> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|err| err.to_string())?;
    let modules = code
        .to_colors()
        .into_iter()
        .map(|color| match color {
            qrcode::Color::Dark => '1',
            qrcode::Color::Light => '0',
        })
        .collect();
    Ok(QrCode {
        text: text.to_owned(),
        width: code.width(),
        modules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_a_square_of_modules_with_finder_patterns() {
        let qr = qr_code("http://192.168.1.20:43127/").unwrap();
        assert_eq!(qr.text, "http://192.168.1.20:43127/");
        assert!(
            qr.width >= 21 && (qr.width - 21).is_multiple_of(4),
            "{}",
            qr.width
        );
        assert_eq!(qr.modules.len(), qr.width * qr.width);
        assert!(qr
            .modules
            .chars()
            .all(|module| module == '0' || module == '1'));
        // The top-left finder pattern's top row: seven dark modules, then a light one.
        assert_eq!(&qr.modules[..8], "11111110");
        let json = serde_json::to_value(&qr).unwrap();
        assert_eq!(json["width"], qr.width);
        assert!(qr_code(&"x".repeat(8000)).is_err());
    }

    #[test]
    fn addresses_exclude_loopback_and_put_private_ones_first() {
        let addresses = ipv4_addresses();
        assert!(addresses
            .iter()
            .all(|ip| !ip.is_loopback() && !ip.is_link_local()));
        let first_public = addresses.iter().position(|ip| !ip.is_private());
        if let Some(first_public) = first_public {
            assert!(addresses[first_public..].iter().all(|ip| !ip.is_private()));
        }
    }
}
