#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
# JupyterHub gets its own role and database, so the Hub never holds llmlab's password and
# llmlab never holds the Hub's. The password comes from the environment (deploy/.env).
set -eu
: "${HUB_DB_PASSWORD:?set HUB_DB_PASSWORD in deploy/.env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v hub_password="$HUB_DB_PASSWORD" <<'SQL'
CREATE ROLE jupyterhub LOGIN PASSWORD :'hub_password';
CREATE DATABASE jupyterhub OWNER jupyterhub;
SQL
