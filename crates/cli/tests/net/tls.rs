//! HTTP clients for tests that speak to nodes as a party would (its node
//! certificate) or as an outsider would (no certificate). Tests are the
//! attacker here: they accept any server certificate.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::Party;

#[derive(Debug)]
struct AnyServer;

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![
            SignatureScheme::ED25519,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::RSA_PSS_SHA256,
        ]
    }
}

/// `who`'s node certificate, as its node makes it.
pub fn node_certificate(who: &Party) -> parley_node::tls::NodeCertificate {
    let key = who.role_key(parley_log::Role::Node);
    parley_node::tls::NodeCertificate::self_signed(&key, &who.name).unwrap()
}

/// TLS 1.3 towards any server, showing `who`'s node certificate (None: no
/// certificate).
fn client_config(who: Option<&Party>) -> rustls::ClientConfig {
    parley_node::install_crypto();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(AnyServer));
    match who {
        Some(p) => {
            let cert = node_certificate(p);
            builder
                .with_client_auth_cert(cert.chain.clone(), cert.private_key())
                .unwrap()
        }
        None => builder.with_no_client_auth(),
    }
}

/// A client that shows `who`'s node certificate (None: no certificate).
pub fn client(who: Option<&Party>) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(who))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Sends `head`, then each of `chunks` with `pause` between them, over TLS
/// as `who`, while reading the answer; returns the answer as far as it
/// came before the connection ended ("" if nothing came). Reading and writing run at once,
/// so an early answer is seen even if the node then cuts the upload.
pub fn exchange(
    who: &Party,
    port: u16,
    head: &str,
    chunks: Vec<Vec<u8>>,
    pause: Duration,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = client_config(Some(who));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let head = head.to_string();
    rt.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("node.parley.invalid").unwrap(), tcp)
            .await
            .unwrap();
        let (mut rd, mut wr) = tokio::io::split(tls);
        let writer = tokio::spawn(async move {
            if wr.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for c in chunks {
                if wr.write_all(&c).await.is_err() || wr.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(pause).await;
            }
        });
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_secs(30), async {
            while answer.len() < 65536 {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        writer.abort();
        String::from_utf8_lossy(&answer).into_owned()
    })
}
