#!/usr/bin/env bash
# Installs (if missing) Docker Engine, MariaDB, wrk, Prometheus and chromium, starts Docker and MariaDB, then creates the database
# user the tool and the tests connect as. Idempotent: safe to run before every test run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/env-defaults.sh
. "$here/env-defaults.sh"

log() { printf '[setup] %s\n' "$*"; }

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_packages+=(mariadb-server)
command -v mariadb-dump >/dev/null 2>&1 || need_packages+=(mariadb-client)
command -v wrk >/dev/null 2>&1 || need_packages+=(wrk)
# Debian's prometheus brings promtool: the observability test scrapes a real upgrade with
# it and checks deploy/prometheus/ (check rules, test rules). Not started as a daemon here;
# the test starts its own on a free loopback port.
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need_packages+=(prometheus)
# Headless chromium draws the dashboard to a PNG (scripts/render-dashboard.ts); the
# observability test renders the run it scraped, so a clean machine needs it too.
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)

if [ ${#need_packages[@]} -gt 0 ]; then
  log "installing: ${need_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then log "timed out waiting for $what"; return 1; fi
    sleep 0.2
  done
}

start_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  # A daemon killed at the end of an earlier session leaves its pid file behind,
  # and dockerd refuses to start while it exists.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  if [ -f /run/containerd/containerd.pid ] && ! kill -0 "$(cat /run/containerd/containerd.pid)" 2>/dev/null; then
    rm -f /run/containerd/containerd.pid
  fi
  log "starting dockerd"
  nohup dockerd --host=unix:///var/run/docker.sock >/var/log/dockerd.log 2>&1 &
  wait_for 60 "dockerd (see /var/log/dockerd.log)" docker info
}

start_mariadb() {
  if mariadb-admin --protocol=socket ping >/dev/null 2>&1; then return 0; fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  log "starting mariadbd"
  nohup /usr/sbin/mariadbd --user=mysql >/var/log/mariadbd.log 2>&1 &
  wait_for 60 "mariadbd (see /var/log/mariadbd.log)" mariadb-admin --protocol=socket ping
}

create_db_user() {
  # The password is passed on stdin so it never shows in a process listing.
  mariadb --protocol=socket <<SQL
CREATE USER IF NOT EXISTS '${HANDOVER_DB_USER}'@'127.0.0.1' IDENTIFIED BY '${HANDOVER_DB_PASSWORD}';
CREATE USER IF NOT EXISTS '${HANDOVER_DB_USER}'@'localhost' IDENTIFIED BY '${HANDOVER_DB_PASSWORD}';
ALTER USER '${HANDOVER_DB_USER}'@'127.0.0.1' IDENTIFIED BY '${HANDOVER_DB_PASSWORD}';
ALTER USER '${HANDOVER_DB_USER}'@'localhost' IDENTIFIED BY '${HANDOVER_DB_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO '${HANDOVER_DB_USER}'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '${HANDOVER_DB_USER}'@'localhost' WITH GRANT OPTION;
SQL
}

start_docker
start_mariadb
create_db_user
log "docker $(docker version --format '{{.Server.Version}}'), $(mariadb --version | awk '{print $5}' | tr -d ,) ready; user ${HANDOVER_DB_USER}@127.0.0.1"
