"""Circuit alerts: the surveillance detectors (``continuum.surveillance``, pure) applied to
the record. Importing the package registers the after-store hook and the run-page alert
provider, so every entry point that loads the models (app, CLI, migrations) evaluates."""

from continuum.alerts import hooks

hooks.install()
