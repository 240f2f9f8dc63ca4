"""What the bot's components, the action server, the content service and the web
server all use, importing none of them: clinic settings, the spaCy date and device
rules, the content store's reading side, SMS segment counting, date wording.
tests/test_layout.py fails on an import that breaks this."""
