#!/usr/bin/env bash
# A throw-away PKI for the TLS tests (OpenSSL 3.0 on Debian bookworm). Usage: test-pki.sh DIR [KEY_PASSWORD]
#
# Writes to DIR (P-256 keys: fast to make, accepted by librdkafka, stunnel and Postgres):
#   ca.pem ca.key                  the test CA
#   other-ca.pem                   a CA that signed nothing here (a client that trusts only it refuses every broker)
#   server.pem server.key          the broker's / Postgres' certificate: SAN DNS:localhost, IP:127.0.0.1
#   server-expired.pem             same key, valid 2020-01-01 to 2021-01-01
#   server-not-yet-valid.pem       same key, valid 2099-01-01 to 2100-01-01
#   server-wrong-host.pem          same key, SAN DNS:wrong.example, IP:10.9.9.9 and CN wrong.example
#   client.pem client.key          a client certificate (CN=regionbridge, clientAuth)
#   client-encrypted.key           the client key encrypted (AES-256) with KEY_PASSWORD (default: changeit)
set -euo pipefail
DIR="${1:?usage: test-pki.sh DIR [KEY_PASSWORD]}"
PASSWORD="${2:-changeit}"
mkdir -p "$DIR"
cd "$DIR"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
extensions() { # SAN, extended key usage
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$2" "$1"
}

for ca in ca other-ca; do
  key "$ca.key"
  openssl req -x509 -new -key "$ca.key" -out "$ca.pem" -days 3650 -subj "/CN=RegionBridge test $ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
done

sign() { # CSR, extensions file, output
  openssl x509 -req -in "$1" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -sha256 -extfile "$2" -out "$3" 2>/dev/null
}

key server.key
openssl req -new -key server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
extensions "DNS:localhost,IP:127.0.0.1" serverAuth > server.ext
sign server.csr server.ext server.pem

openssl req -new -key server.key -out wrong-host.csr -subj "/CN=wrong.example" 2>/dev/null
extensions "DNS:wrong.example,IP:10.9.9.9" serverAuth > wrong-host.ext
sign wrong-host.csr wrong-host.ext server-wrong-host.pem

# `openssl x509` of OpenSSL 3.0 cannot set past or future validity dates: `openssl ca` can.
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = $PWD/ca-db/index.txt
new_certs_dir = $PWD/ca-db
serial = $PWD/ca-db/serial
certificate = $PWD/ca.pem
private_key = $PWD/ca.key
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
CNF
openssl ca -batch -config ca-db/ca.cnf -in server.csr -out server-expired.pem -notext \
  -startdate 20200101000000Z -enddate 20210101000000Z -extfile server.ext 2>/dev/null
openssl ca -batch -config ca-db/ca.cnf -in server.csr -out server-not-yet-valid.pem -notext \
  -startdate 20990101000000Z -enddate 21000101000000Z -extfile server.ext 2>/dev/null

key client.key
openssl req -new -key client.key -out client.csr -subj "/CN=regionbridge" 2>/dev/null
extensions "DNS:regionbridge" clientAuth > client.ext
sign client.csr client.ext client.pem
openssl pkey -in client.key -aes256 -passout "pass:$PASSWORD" -out client-encrypted.key

rm -f ./*.csr ./*.ext
chmod 600 ./*.key
