"""The replies' services: :mod:`.receive` (one message in), :mod:`.attach` (its customer and
reminder), :mod:`.effects` (what it does to the sequence), :mod:`.review` (what a person does),
:mod:`.fetch` (the mailbox read over IMAP), :mod:`.follow_up` (the daily checks)."""
