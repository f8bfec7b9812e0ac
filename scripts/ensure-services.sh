#!/usr/bin/env bash
# Makes sure the local test peers are up: PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
# Starts them with the machine's own commands when they are down. Idempotent; safe to run often.
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2 || true
  fi
  for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
fi

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "ensure-services: starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 || true
  fi
  for _ in $(seq 1 50); do redis_up && break; sleep 0.2; done
fi

status=0
pg_up && echo "ensure-services: PostgreSQL is up" >&2 || { echo "ensure-services: PostgreSQL is NOT reachable on 127.0.0.1:5432" >&2; status=1; }
redis_up && echo "ensure-services: Redis is up" >&2 || { echo "ensure-services: Redis is NOT reachable on 127.0.0.1:6379" >&2; status=1; }
exit $status
