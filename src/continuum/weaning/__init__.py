"""Weaning from ECMO: readiness reviews, step-by-step trials and structured decannulation.
Importing the package registers its follow-up provider (hooks.py), so every entry point that
loads the models (app, CLI, migrations, tests) shows open follow-ups on the rounds board."""

from continuum.weaning import hooks

hooks.install()
