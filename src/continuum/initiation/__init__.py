"""Initiation: referral, candidacy, modality selection and the configuration plan, kept as
one shared decision record that ends in a signed decision and, when accepted, a run."""
