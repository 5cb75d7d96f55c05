FROM python:3.11-slim
WORKDIR /srv/liandong
# The Mandarin prompts: espeak-ng speaks them, ffmpeg decodes and resamples audio.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng ffmpeg \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md server.py ./
COPY ami_client ami_client
COPY common common
COPY county county
COPY database database
COPY web web
COPY startup startup
COPY telephony telephony
COPY transfer transfer
COPY records records
COPY ivr_flows ivr_flows
COPY notify notify
COPY people people
COPY console console
# The way in's data (desks, flows, prompts); mount your own over it (or set LIANDONG_IVR_DIR).
ENV LIANDONG_IVR_DIR=/srv/liandong/ivr_flows
COPY pbx pbx
# The in-call key codes are read from Asterisk's own features.conf.
COPY asterisk-config/features.conf asterisk-config/features.conf
ENV LIANDONG_FEATURES_CONF=/srv/liandong/asterisk-config/features.conf
# The county's case rules; mount your own over it (or set LIANDONG_CASE_CONFIG).
COPY case-config case-config
ENV LIANDONG_CASE_CONFIG=/srv/liandong/case-config
RUN pip install --no-cache-dir .
ENTRYPOINT ["liandong"]
CMD ["serve"]
