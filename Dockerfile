# A Flotilla node on a small JRE, from the jars the build already made (the image runs no Maven):
#   ./mvnw -q -DskipTests install && docker build -t flotilla .
# Then a three-node cluster: docker compose up -d (docker-compose.yml; README, "Running in containers").
ARG JRE_IMAGE=eclipse-temurin:17-jre
FROM ${JRE_IMAGE}

# Not root: the node needs no privilege, only its data directory.
RUN groupadd --system --gid 10001 flotilla \
 && useradd --system --uid 10001 --gid flotilla --home-dir /var/lib/flotilla --no-create-home --shell /usr/sbin/nologin flotilla \
 && mkdir -p /var/lib/flotilla \
 && chown flotilla:flotilla /var/lib/flotilla

# The libraries first: they change less often than the server, so rebuilds reuse their layer.
COPY flotilla-server/target/lib/ flotilla-client/target/lib/ /opt/flotilla/lib/
COPY flotilla-server/target/flotilla-server.jar /opt/flotilla/lib/
COPY docker/bin/flotilla-server docker/bin/flotilla-client /usr/local/bin/

USER flotilla
# The node's data: ./data/node-<id> (the default --data-dir) under this volume.
WORKDIR /var/lib/flotilla
VOLUME /var/lib/flotilla
# The node's port for peers and clients, and its HTTP port (--http-port, default the node's port + 1000),
# for a node started with --port 5001; a node on another port exposes that one.
EXPOSE 5001 6001
# SIGTERM (docker stop) stops the node cleanly: a leader first hands leadership over.
ENTRYPOINT ["flotilla-server"]
CMD ["--help"]
