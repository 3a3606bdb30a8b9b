"""Running ECMO Continuum in a hospital: the reverse proxy's configuration (``proxy``) and
backups (``backup``). docs/operations.md explains the deployment."""
