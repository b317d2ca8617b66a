"""How a composed message leaves: ``email.py`` leads the SMTP conversation step by step so
the phase of any failure is known (connect, MAIL, RCPT, DATA, final reply), ``eml_backend.py``
writes .eml files instead (the demo, a first try), ``post.py`` hands a letter's PDF to the
post (and checks the letterhead it needs). Channels know nothing of reminders: the dispatcher
(``dunning``) gives them a message and reads back an outcome."""
