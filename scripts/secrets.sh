#!/usr/bin/env bash
# Secrets of scripts/run.sh, sourced by it: each from the environment, else from the
# first of ENV_FILES that has it, else a new random one appended to ENV_FILES[0] (made
# under umask 077). ENV_FILES is set by run.sh: .env, or in the production profile
# HSG_STATE_DIR/.env first.

# setting NAME: its value from the first of ENV_FILES that has it (the last such line).
setting() {
  local file
  for file in "${ENV_FILES[@]}"; do
    if grep -q "^$1=" "$file" 2>/dev/null; then grep "^$1=" "$file" | tail -n 1 | cut -d= -f2-; return 0; fi
  done
  return 1
}
# new_secret NAME: a random value, appended to the first of ENV_FILES (made under umask 077).
new_secret() {
  (umask 077; echo "$1=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> "${ENV_FILES[0]}")
  echo "==> Added a new random $1 to ${ENV_FILES[0]}"
}

# load_secrets: exports every secret below (creating the missing ones) and the Twilio settings.
load_secrets() {
  # Secrets: from the environment, else from .env (each created once, random).
  #   HSG_API_TOKEN      the Rasa HTTP API token
  #   HSG_SMS_HASH_KEY   turns SMS phone numbers into conversation ids
  #   HSG_CONTENT_TOKEN  the bot's answer requests to the content service (they carry the conversation)
  #   HSG_EDITOR_SECRET  signs editor logins
  # (In the production profile: HSG_STATE_DIR/.env. Every host of one deployment needs
  # the same HSG_SMS_HASH_KEY and HSG_EDITOR_SECRET: copy that file, or set them.)
  for name in HSG_API_TOKEN HSG_SMS_HASH_KEY HSG_CONTENT_TOKEN HSG_EDITOR_SECRET; do
    if [ -z "${!name:-}" ]; then
      setting "$name" >/dev/null || new_secret "$name"
      export "$name=$(setting "$name")"
    fi
  done
  export HSG_API_TOKEN HSG_SMS_HASH_KEY HSG_CONTENT_TOKEN HSG_EDITOR_SECRET
  # Set by hand, never created: Twilio's credentials, the clinic's number and the status
  # callback's URL (common/outbound.py), and HSG_STAFF_TOKEN (the staff texting API; while
  # it is unset the API refuses every request, and staff use the page).
  for name in TWILIO_AUTH_TOKEN TWILIO_ACCOUNT_SID TWILIO_FROM_NUMBER TWILIO_STATUS_CALLBACK_URL \
              TWILIO_API_BASE HSG_STAFF_TOKEN; do
    if [ -z "${!name:-}" ] && setting "$name" >/dev/null; then
      export "$name=$(setting "$name")"
    fi
  done
}
