#!/bin/sh
# gen-test-ca.sh DIR — create a throw-away test CA and a server certificate for
# 127.0.0.1/localhost in DIR (ca.pem, ca.key, server.pem, server.key), for the emulator's
# TLS listener. Test use only: keys are unencrypted, the CA lives for 2 days.
set -eu
dir=${1:?usage: gen-test-ca.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=alink-emu test CA" \
    -keyout ca.key -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf \
    -out server.pem >/dev/null 2>&1
rm -f server.csr ext.cnf ca.srl
chmod 0644 ca.pem server.pem
