//! PEM and DER encodings of keys (PKCS#8 v1 private keys, SPKI public keys).
