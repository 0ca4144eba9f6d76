"""Running the server as several replicas: a local layout on existing engines (PostgreSQL, a shared
llama.cpp server, HAProxy) started by `scripts/scale_out.sh`, and Kubernetes manifests in `k8s/`."""
