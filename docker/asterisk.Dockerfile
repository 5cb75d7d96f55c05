# Debian's Asterisk 22 (only in unstable), the same packages as the testbed.
FROM debian:sid-slim
RUN apt-get -o Acquire::Check-Valid-Until=false update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      asterisk asterisk-modules asterisk-moh-opsound-wav \
 && rm -rf /var/lib/apt/lists/*
COPY docker/asterisk-entrypoint.sh /usr/local/bin/asterisk-entrypoint
ENTRYPOINT ["/usr/local/bin/asterisk-entrypoint"]
