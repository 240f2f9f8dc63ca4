"""Custom Rasa components loaded by config.yml and credentials.yml."""
