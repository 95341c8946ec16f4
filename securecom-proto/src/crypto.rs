//! Cryptographic building blocks shared by the handshakes and the record layer.
