//! [`Trust`]: which server certificates the clients accept (a pinned SHA-256 fingerprint, the
//! certificates of a CA file, any at all, or the bundled web roots), as the rustls client
//! configuration the HTTP clients (and any other TLS client of a run) are built with.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Which server certificates a run's clients accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The bundled web PKI roots (a `--target https://` with a publicly trusted certificate).
    WebRoots,
    /// Exactly the certificate with this SHA-256 fingerprint (`AB:CD:…`, as `tickbench serve
    /// --tls` prints it): the embedded server's self-signed one.
    Pinned(String),
    /// Certificates issued by one of these (PEM, `--ca FILE`).
    Ca(Vec<CertificateDer<'static>>),
    /// Any certificate (`--insecure`): the handshake and its cost stay, the check goes.
    Insecure,
}

impl Trust {
    /// `--ca FILE`: every certificate in the PEM file.
    pub fn ca_file(path: &Path) -> Result<Trust, String> {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate in it", path.display()));
        }
        Ok(Trust::Ca(certs))
    }

    /// The rustls configuration for this trust, offering `alpn` (`h2` or `http/1.1`), for
    /// reqwest and the WebSocket client alike.
    pub fn client_config(&self, alpn: &[u8]) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let mut cfg = match self {
            Trust::WebRoots => {
                let roots = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Trust::Pinned(fp) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pin {
                    fingerprint: Some(normalise(fp)),
                    provider,
                }))
                .with_no_client_auth(),
            Trust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pin {
                    fingerprint: None,
                    provider,
                }))
                .with_no_client_auth(),
            Trust::Ca(certs) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in certs {
                    roots
                        .add(c.clone())
                        .map_err(|e| format!("a --ca certificate: {e}"))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
        };
        cfg.alpn_protocols = vec![alpn.to_vec()];
        Ok(cfg)
    }
}

/// SHA-256 of a certificate's DER as colon-separated upper-case hex (the server's format).
pub fn fingerprint(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A fingerprint as typed (any case, colons or not) in the server's format.
fn normalise(fp: &str) -> String {
    let hex: Vec<char> = fp
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex.chunks(2)
        .map(|p| p.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(":")
}

/// Accepts the one certificate whose fingerprint is pinned (or any, with `None`); the
/// handshake signatures are still verified against the presented certificate.
#[derive(Debug)]
struct Pin {
    fingerprint: Option<String>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pin {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.fingerprint {
            Some(want) => {
                let got = fingerprint(end_entity);
                if &got == want {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General(format!(
                        "server certificate {got} is not the pinned {want}"
                    )))
                }
            }
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_normalise() {
        assert_eq!(normalise("ab:cd:EF"), "AB:CD:EF");
        assert_eq!(normalise("abcdef"), "AB:CD:EF");
    }

    #[test]
    fn configs_build_with_the_asked_alpn() {
        let c = Trust::Pinned("AB".into()).client_config(b"h2").unwrap();
        assert_eq!(c.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(Trust::Insecure.client_config(b"http/1.1").is_ok());
        assert!(Trust::WebRoots.client_config(b"h2").is_ok());
        assert!(Trust::ca_file(Path::new("/nonexistent.pem")).is_err());
    }
}
