"""The production recipe (deploy/README.md) and its local launcher, `deploy.launch`."""
