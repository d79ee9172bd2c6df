# Defaults for the local development and test environment. The password is a
# throw-away for a loopback-only test server; real deployments use a password file.
: "${HANDOVER_DB_USER:=handover}"
: "${HANDOVER_DB_PASSWORD:=handover-dev-only}"
export HANDOVER_DB_USER HANDOVER_DB_PASSWORD
