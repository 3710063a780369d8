# cadenza-mock: offline emulator of the Cadenza credential API.
#
#   docker build -t cadenza-mock .
#   docker run --rm -p 8080:8080 cadenza-mock
#   docker run --rm -p 8080:8080 -v "$PWD/my-scenarios:/scenarios:ro" \
#       -e CADENZA_MOCK_SCENARIO=/scenarios/mine.yaml cadenza-mock
#
# Every `serve` option can be set as CADENZA_MOCK_<OPTION>. BASE_IMAGE can point at any
# Debian-like image with python3 (>= 3.11) and the venv module; both stages use it, so the
# venv's interpreter link is valid in the final image.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# Dependencies first, from the metadata alone (README.md and scenarios/ are empty stand-ins),
# so edits to the code, the README or the scenarios reuse this layer.
COPY pyproject.toml ./
COPY cadenza_mock/version.py cadenza_mock/version.py
RUN mkdir -p scenarios \
    && touch README.md \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir ".[tls]"
# Then the real package (the wheel bundles scenarios/ as cadenza_mock/_bundled).
COPY README.md ./
COPY cadenza_mock/ cadenza_mock/
COPY scenarios/ scenarios/
# pip and setuptools are not needed to run (about 25 MB); `python3 -m ensurepip` brings pip
# back in a derived image.
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --force-reinstall . \
    && /opt/venv/bin/cadenza-mock --version \
    && /opt/venv/bin/pip uninstall --yes --quiet setuptools pip

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="cadenza-mock" \
      org.opencontainers.image.description="Offline emulator of the Cadenza credential API, driven by YAML scenarios" \
      org.opencontainers.image.licenses="MIT"
RUN useradd --user-group --uid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin cadenza \
    && mkdir -p /scenarios /state /tls \
    && chown 10001:10001 /state /tls
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CADENZA_MOCK_HOST=0.0.0.0 \
    CADENZA_MOCK_PORT=8080 \
    CADENZA_MOCK_SCENARIO_DIR=/scenarios
USER 10001:10001
EXPOSE 8080
# Mount your own scenario files here: -v DIR:/scenarios:ro -e CADENZA_MOCK_SCENARIO=/scenarios/x.yaml
# /state is the user's own, so a named volume mounted there is writable for --state-file:
# -v cadenza-state:/state -e CADENZA_MOCK_STATE_FILE=/state/cadenza-state.json
# /tls too, for the CA bundle of --tls (never /scenarios, mounted read-only):
# -e CADENZA_MOCK_TLS=1 -e CADENZA_MOCK_TLS_CA_FILE=/tls/ca.pem, then docker cp it out.
# The admin API may load bundled scenarios and files under /scenarios only. On 0.0.0.0 it is
# off (403, health excepted) until CADENZA_MOCK_ADMIN_TOKEN is set.
# No curl in the image: python3 + urllib, proxies ignored, the port from CADENZA_MOCK_PORT and
# the admin token (the health route is part of the admin API) from CADENZA_MOCK_ADMIN_TOKEN;
# HTTPS when CADENZA_MOCK_TLS or CADENZA_MOCK_TLS_CERT is set (a liveness probe of this very
# container: the certificate is not verified here, clients verify it).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["python3", "-c", "import os, ssl, sys, urllib.request as u; e = os.environ.get; t = (e('CADENZA_MOCK_TLS') or '').lower() in ('1', 'true', 'yes', 'on') or bool(e('CADENZA_MOCK_TLS_CERT')); q = u.Request(('https' if t else 'http') + '://127.0.0.1:' + (e('CADENZA_MOCK_PORT') or '8080') + '/__admin/health', headers={'X-Admin-Token': e('CADENZA_MOCK_ADMIN_TOKEN') or ''}); r = u.build_opener(u.ProxyHandler({}), u.HTTPSHandler(context=ssl._create_unverified_context())).open(q, timeout=4); sys.exit(0 if r.status == 200 else 1)"]
ENTRYPOINT ["cadenza-mock"]
CMD ["serve"]
