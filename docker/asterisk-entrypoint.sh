#!/bin/sh
# Install the project's asterisk-config (mounted at /config) and the AMI secret
# from the environment, then run Asterisk in the foreground.
set -eu
: "${LIANDONG_AMI_SECRET:?set LIANDONG_AMI_SECRET}"
rm -rf /etc/asterisk && mkdir -p /etc/asterisk && cp /config/* /etc/asterisk/
umask 077
printf 'secret = %s\n' "$LIANDONG_AMI_SECRET" > /etc/asterisk/manager_secret.conf
grep -q "$(hostname)" /etc/hosts || echo "127.0.0.1 $(hostname)" >> /etc/hosts
exec /usr/sbin/asterisk -f -n -q
