//! Validation of the server's X.509 certificate chain against the trusted CA and its CRL.
