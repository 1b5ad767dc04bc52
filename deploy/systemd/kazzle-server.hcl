# /etc/kazzle/kazzle-server.hcl for kazzle.service: every attribute is in docs/server.md.
# The service reads /etc and writes only its data folder, /var/lib/kazzle (mode 0700).

listener "tcp" {
  address       = "0.0.0.0:8443"
  tls_cert_file = "/etc/kazzle/tls.crt"
  # Owned by kazzle, mode 0600: the server refuses a key that others can read.
  tls_key_file  = "/etc/kazzle/tls.key"
}

storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }

# Made on the first start, mode 0600. kazzle server backup never copies it: keep a copy
# of it apart from the backups, and leave it out of file-level backups of the folder.
kms "local" { key_file = "/var/lib/kazzle/root.key" }

audit { retention = "365d" }
