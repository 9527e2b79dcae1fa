#!/bin/sh
# One-shot key setup of the compose stack (run by the keygen service):
# the gateway's SSH client key, the payer simulator's host key, the
# simulator's authorized_keys and the gateway's known_hosts pinning the
# host key. Kept on volumes; an existing key is never replaced. Owned by
# the distroless nonroot user (65532) both claimgate containers run as.
set -eu
apk add --no-cache openssh-keygen >/dev/null
umask 077
[ -f /keys/claimgate_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -C claimgate -f /keys/claimgate_ed25519
[ -f /payersim/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -C payersim -f /payersim/ssh_host_ed25519_key
cp /keys/claimgate_ed25519.pub /keys/authorized_keys
echo "[payersim]:2022 $(cut -d' ' -f1,2 /payersim/ssh_host_ed25519_key.pub)" > /keys/known_hosts
chmod 0644 /keys/authorized_keys /keys/known_hosts
chown -R 65532:65532 /keys /payersim
