//! Mutual TLS 1.3 between nodes, bound to the parties' pinned identities.
//!
//! A node's certificate carries its **node key** (the `node` role of its
//! identity file), self-signed by default, or issued by the party's own CA
//! for that key (`[tls] certificate`). No public CA is involved: each side
//! checks that the other's certificate holds the node key it pinned, and
//! TLS 1.3 proves possession of that key in the handshake.
//!
//! * As a client, a node talks to one peer per connection pool and accepts
//!   only a server whose certificate holds that peer's node key
//!   ([`peer_client`]).
//! * As a server, a node asks every client for a certificate but does not
//!   demand one: public monitors may read what the operator opened and
//!   anyone may submit a signed checkpoint to a witness. A client's key is
//!   checked in the handshake and mapped to a pinned party per request
//!   ([`Caller`]); every `/federation` route except key rotation (which is
//!   signed by the old key) refuses a caller that is not a pinned peer.

use std::sync::Arc;

use parley_log::SigningKey;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Who is on the other end of a request, as the connection proved it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub addr: std::net::SocketAddr,
    /// The Ed25519 key of the client's TLS certificate, when it showed one.
    pub tls_key: Option<[u8; 32]>,
}

/// A node's certificate chain and its private key.
#[derive(Clone, Debug)]
pub struct NodeCertificate {
    pub chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot make the node certificate: {0}")]
    Generate(String),
    #[error("{path}: {why}")]
    Certificate { path: String, why: String },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

impl NodeCertificate {
    /// A self-signed certificate for the node key, naming the party.
    ///
    /// # Errors
    /// The certificate library refuses the key (it never does for Ed25519).
    pub fn self_signed(node_key: &SigningKey, party: &str) -> Result<NodeCertificate, TlsError> {
        let pkcs8 = PrivatePkcs8KeyDer::from(node_key.pkcs8_der());
        let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let mut params = rcgen::CertificateParams::new(vec![format!("{party}.parley.invalid")])
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("parley node of {party}"));
        let cert = params
            .self_signed(&pair)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        Ok(NodeCertificate {
            chain: vec![cert.der().clone()],
            key: node_key.pkcs8_der(),
        })
    }

    /// A chain the party's own CA issued for the node key (PEM), checked to
    /// hold that key.
    ///
    /// # Errors
    /// The file cannot be read, holds no certificate, or its first
    /// certificate is not for the node key.
    pub fn from_pem(
        path: &std::path::Path,
        node_key: &SigningKey,
    ) -> Result<NodeCertificate, TlsError> {
        let bad = |why: String| TlsError::Certificate {
            path: path.display().to_string(),
            why,
        };
        let chain = read_chain(path)?;
        let key = ed25519_key_of(&chain[0]).map_err(bad)?;
        if key != node_key.verifier().public_bytes() {
            return Err(bad(
                "the certificate is not for this node's node key (keys/node.key); \
                 have the CA issue it for that key"
                    .into(),
            ));
        }
        Ok(NodeCertificate {
            chain,
            key: node_key.pkcs8_der(),
        })
    }

    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }
}

/// A PEM certificate chain, leaf first; at least one certificate.
fn read_chain(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |why: String| TlsError::Certificate {
        path: path.display().to_string(),
        why,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if chain.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    Ok(chain)
}

/// The SubjectPublicKeyInfo (DER) of a certificate: what is pinned.
fn spki_of(cert: &CertificateDer<'_>) -> Result<Vec<u8>, String> {
    let parsed =
        webpki::EndEntityCert::try_from(cert).map_err(|e| format!("bad certificate: {e:?}"))?;
    Ok(parsed.subject_public_key_info().as_ref().to_vec())
}

/// The SubjectPublicKeyInfo of an Ed25519 key.
fn ed25519_spki(key: &[u8; 32]) -> Vec<u8> {
    [&ED25519_SPKI_PREFIX[..], key].concat()
}

/// The Ed25519 key a certificate is for.
///
/// # Errors
/// The certificate does not parse, or its key is not Ed25519.
pub fn ed25519_key_of(cert: &CertificateDer<'_>) -> Result<[u8; 32], String> {
    let spki = spki_of(cert)?;
    let raw = spki
        .strip_prefix(&ED25519_SPKI_PREFIX[..])
        .ok_or("the certificate's key is not Ed25519")?;
    raw.try_into()
        .map_err(|_| "the certificate's Ed25519 key is not 32 bytes".to_string())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

/// Accepts a server whose certificate holds one of the pinned keys
/// (SubjectPublicKeyInfo, compared whole); rustls then checks that the
/// server proves it holds that key.
#[derive(Debug)]
struct PinnedServer {
    spkis: Vec<Vec<u8>>,
    /// Peers: TLS 1.3 and Ed25519 only. The console: whatever its
    /// configured certificate needs.
    nodes_only: bool,
    /// Said when another key answers.
    mismatch: &'static str,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let spki = spki_of(end_entity).map_err(rustls::Error::General)?;
        if self.spkis.contains(&spki) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(self.mismatch.into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if self.nodes_only {
            return Err(tls13_only());
        }
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        if self.nodes_only {
            vec![SignatureScheme::ED25519]
        } else {
            self.algorithms.supported_schemes()
        }
    }
}

fn tls13_only() -> rustls::Error {
    rustls::Error::General("parley speaks TLS 1.3 only".into())
}

/// Asks every client for an Ed25519 certificate and checks the handshake
/// signature; which party the key belongs to is decided per request.
#[derive(Debug)]
struct NodeClients {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for NodeClients {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        ed25519_key_of(end_entity).map_err(rustls::Error::General)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(tls13_only())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

/// The client side towards one peer: TLS 1.3, this node's certificate,
/// and only a server holding one of `peer_keys`.
///
/// # Errors
/// rustls refuses the certificate or key.
pub fn client_config(
    cert: &NodeCertificate,
    peer_keys: Vec<[u8; 32]>,
) -> Result<rustls::ClientConfig, TlsError> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            spkis: peer_keys.iter().map(ed25519_spki).collect(),
            nodes_only: true,
            mismatch: "the server's certificate is not for the pinned node key of this peer",
            algorithms: algorithms(),
        }))
        .with_client_auth_cert(cert.chain.clone(), cert.private_key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// An HTTP client that speaks to one peer only: mutual TLS with this
/// node's certificate, the peer's certificate pinned to `peer_keys`.
/// Plain `http://` URLs are refused unless `allow_plain` (an operator's
/// explicit choice, e.g. behind a TLS-terminating proxy).
///
/// # Errors
/// rustls or the HTTP client cannot be configured.
pub fn peer_client(
    cert: &NodeCertificate,
    peer_keys: Vec<[u8; 32]>,
    timeout: std::time::Duration,
    allow_plain: bool,
) -> Result<reqwest::Client, TlsError> {
    let tls = client_config(cert, peer_keys)?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(!allow_plain)
        .timeout(timeout)
        .connect_timeout(std::time::Duration::from_secs(5))
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .user_agent(concat!("parley/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TlsError::Generate(e.to_string()))
}

/// This node's certificate, kept in step with its node key: after a
/// rotation, new handshakes (as server and as client) show the new key.
#[derive(Debug)]
pub struct TlsIdentity {
    party: String,
    configured: Option<std::path::PathBuf>,
    current: std::sync::RwLock<(SigningKey, NodeCertificate, Arc<rustls::sign::CertifiedKey>)>,
}

impl TlsIdentity {
    /// # Errors
    /// The configured chain is unreadable or not for the node key.
    pub fn new(
        party: &str,
        node_key: &SigningKey,
        configured: Option<std::path::PathBuf>,
    ) -> Result<TlsIdentity, TlsError> {
        let current = Self::make(party, node_key, configured.as_deref())?;
        Ok(TlsIdentity {
            party: party.to_string(),
            configured,
            current: std::sync::RwLock::new(current),
        })
    }

    fn make(
        party: &str,
        node_key: &SigningKey,
        configured: Option<&std::path::Path>,
    ) -> Result<(SigningKey, NodeCertificate, Arc<rustls::sign::CertifiedKey>), TlsError> {
        let cert = match configured {
            Some(path) => NodeCertificate::from_pem(path, node_key)?,
            None => NodeCertificate::self_signed(node_key, party)?,
        };
        let signing = provider()
            .key_provider
            .load_private_key(cert.private_key())?;
        let certified = Arc::new(rustls::sign::CertifiedKey::new(cert.chain.clone(), signing));
        Ok((node_key.clone(), cert, certified))
    }

    /// The certificate for `node_key`, made anew if the key changed.
    ///
    /// # Errors
    /// A configured chain is not for the new key (the operator must have
    /// the CA issue one): the old certificate stays in use.
    pub fn certificate(&self, node_key: &SigningKey) -> Result<NodeCertificate, TlsError> {
        {
            let cur = self.current.read().unwrap_or_else(|e| e.into_inner());
            if cur.0.verifier().public_bytes() == node_key.verifier().public_bytes() {
                return Ok(cur.1.clone());
            }
        }
        let next = Self::make(&self.party, node_key, self.configured.as_deref())?;
        let cert = next.1.clone();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(cert)
    }

    fn certified(&self) -> Arc<rustls::sign::CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .2
            .clone()
    }
}

#[derive(Debug)]
struct CurrentCertificate(Arc<TlsIdentity>);

impl rustls::server::ResolvesServerCert for CurrentCertificate {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.certified())
    }
}

/// The federation listener's TLS: 1.3 only, the node's current
/// certificate, client certificates asked for.
///
/// # Errors
/// rustls refuses the configuration.
pub fn federation_server(
    identity: Arc<TlsIdentity>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(NodeClients {
            algorithms: algorithms(),
        }))
        .with_cert_resolver(Arc::new(CurrentCertificate(identity)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The console listener's TLS: a certificate the party's browsers trust
/// (PEM chain and key), no client certificates.
///
/// # Errors
/// The files cannot be read or rustls refuses them.
pub fn console_server(
    certificate: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let chain = read_chain(certificate)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Certificate {
        path: key.display().to_string(),
        why: e.to_string(),
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An HTTP client for this node's own console over HTTPS, as the CLI on
/// the same host uses it: it trusts exactly the certificate the console
/// is configured with (whatever CA issued it, whatever name it carries,
/// since the CLI connects to the listen address).
///
/// # Errors
/// The certificate file cannot be read.
pub fn console_client(
    certificate: &std::path::Path,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, TlsError> {
    let spki = spki_of(&read_chain(certificate)?[0]).map_err(|why| TlsError::Certificate {
        path: certificate.display().to_string(),
        why,
    })?;
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            spkis: vec![spki],
            nodes_only: false,
            mismatch: "the console's certificate is not the one in its configuration",
            algorithms: algorithms(),
        }))
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(timeout)
        // No idle connections kept: see `parley`'s `Api` (a connection the
        // console closed while the caller slept fails the next request).
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| TlsError::Generate(e.to_string()))
}
