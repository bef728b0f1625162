"""The service layer of the alerts worker: plain classes that hold its logic, no faust in them.

Each takes its collaborators in ``__init__`` (the tables as typed mappings, a send callable, the
notifier, a clock: services/alerts/service/ports.py), so it runs without a broker; bootstrap.py
builds them, worker.py and web.py call them.

- regions.py: the plans and alert states held here, decoded once;
- evaluation.py: region scores and plans in, transitions out (judge, publish, pending);
- open_alerts.py: the alerts' records: transitions read back, acknowledgement, escalation;
- dispatch.py: the outbox of notifications and the attempts that empty it;
- acknowledgements.py: the acknowledge link and the alert page, on whichever worker;
- gauges.py: the gauges read from the tables;
- bad_records.py: records the worker cannot use (dead letters, the error policy).
"""
