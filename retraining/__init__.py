"""Retraining from the staff console: a model trained on the repository's data and the examples
staff taught (console/teaching/), checked against the running model, deployed without a restart,
rolled back in one click, and exported as a patch the repository can take in.

- `runs`: the runs and deployments, with who and when (tables `clinic_model_runs` and
  `clinic_model_deployments`); which model the servers serve;
- `worker`: one run, in the background (`python -m retraining.worker RUN_ID`): gather the data,
  train, check, decide;
- `checks`: what a model makes of the held-out sets and the crisis suite, and why a new model
  is worse than the running one;
- `swap`: a model into each Rasa server through Rasa's model API (`PUT /model`), one at a time;
- `patch`: the taught examples and approved wordings as a patch to `data/` and `domain.yml`.
"""
