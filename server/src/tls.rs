//! [`Tls`]: the server's certificate and rustls configuration (ALPN `h2`, `http/1.1`; the `ring`
//! provider), from PEM files or a self-signed certificate for localhost made at start, with the
//! SHA-256 fingerprint clients pin.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsSource;
use crate::error::Error;

/// Names the self-signed certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// What the accept loop needs to speak TLS, and what the server prints for clients to pin.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    /// The leaf certificate, PEM (what `--tls-cert-out` writes).
    cert_pem: String,
    /// SHA-256 of the leaf certificate's DER, `AB:CD:…` (as `openssl x509 -fingerprint -sha256`).
    fingerprint: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Tls {
    /// Loads (or, for [`TlsSource::SelfSigned`], makes) the certificate and key.
    pub fn load(src: &TlsSource) -> Result<Tls, Error> {
        let (certs, key) = match src {
            TlsSource::SelfSigned => self_signed()?,
            TlsSource::Files { cert, key } => from_files(cert, key)?,
        };
        let leaf = certs
            .first()
            .ok_or_else(|| tls_err(format!("{}: no certificate", src_name(src))))?;
        let fingerprint = fingerprint(leaf);
        let cert_pem = pem("CERTIFICATE", leaf);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| tls_err(format!("{}: {e}", src_name(src))))?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(cfg)),
            cert_pem,
            fingerprint,
        })
    }

    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// The leaf certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// SHA-256 of the leaf certificate, `AB:CD:…`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// SHA-256 of a certificate's DER as colon-separated upper-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn tls_err(msg: String) -> Error {
    Error::BadConfig(format!("tls: {msg}"))
}

fn src_name(src: &TlsSource) -> String {
    match src {
        TlsSource::SelfSigned => "self-signed certificate".into(),
        TlsSource::Files { cert, .. } => cert.display().to_string(),
    }
}

fn self_signed() -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|s| s.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names)
        .map_err(|e| tls_err(format!("making a self-signed certificate: {e}")))?;
    let key =
        PrivateKeyDer::try_from(ck.key_pair.serialize_der()).map_err(|e| tls_err(e.into()))?;
    Ok((vec![ck.cert.der().clone()], key))
}

fn from_files(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| tls_err(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| tls_err(format!("{}: {e}", key.display())))?;
    Ok((certs, key))
}

/// `der` as a PEM block of `label`.
fn pem(label: &str, der: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | b as u32) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_loads_and_its_pem_reads_back() {
        let tls = Tls::load(&TlsSource::SelfSigned).unwrap();
        assert_eq!(tls.fingerprint().len(), 32 * 3 - 1);
        let der = CertificateDer::from_pem_slice(tls.cert_pem().as_bytes()).unwrap();
        assert_eq!(fingerprint(&der), tls.fingerprint());
    }

    #[test]
    fn missing_files_are_a_config_error() {
        let err = Tls::load(&TlsSource::Files {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        })
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }
}
