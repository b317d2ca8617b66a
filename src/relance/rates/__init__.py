"""Interest rate semesters added by users (``relance rates add``) on top of the tables
shipped with ``core.law``. A shipped, sourced value always wins. When a rate is added, the app
sends ``rate_added``; the apps that waited for it (dunning's formal notices) react."""
