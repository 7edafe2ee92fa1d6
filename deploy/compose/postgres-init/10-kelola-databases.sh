# shellcheck shell=sh
# Run once by the postgres image at its first start: one database per service, owned by
# POSTGRES_USER (each service applies its own migrations at start).
for database in kelola_customer kelola_ledger kelola_report; do
  psql --username="$POSTGRES_USER" --dbname=postgres --quiet \
    --command="CREATE DATABASE $database OWNER \"$POSTGRES_USER\""
done
