"""Pure business rules, the bottom layer: money and calendars, French late-payment law
(``law/``), the escalation rules, the state machines of holds, plans and litigation, the
matcher of bank receipts, the event log's hash chain and the parsers of every imported format
(``formats/``, which return problems as data). Nothing here imports Django or a relance app
(import-linter and ``test_project_rules`` check it): the apps give it plain values and store
what it decides."""
