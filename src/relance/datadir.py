"""The names of the marker files a data folder may hold. Read before Django starts (settings),
by the security checks and by the demo, so they live below every app."""

DEMO_MARKER = ".relance-demo"  # relance.security: this folder may be served with the public secret key
DEMO_DAY_FILE = ".relance-demo-day"  # the demo's day (ISO date): the folder's web app and commands live on it
