package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const dir = ".." // deploy/k8s

// load decodes the kustomization and every resource it lists.
func load(t *testing.T) (*Kustomization, []Object) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := DecodeKustomization(b)
	if err != nil {
		t.Fatal(err)
	}
	var objs []Object
	for _, r := range k.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			t.Fatal(err)
		}
		o, err := Decode(r, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(o) == 0 {
			t.Errorf("%s: no object", r)
		}
		objs = append(objs, o...)
	}
	return k, objs
}

func find[T any](t *testing.T, objs []Object) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.Obj.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("%d objects of type %T, want 1", len(found), zero)
	}
	return found[0]
}

// Every manifest decodes strictly, every YAML file of deploy/k8s is used,
// and every object lives in the namespace of the kustomization.
func TestManifestsDecodeStrictly(t *testing.T) {
	k, objs := load(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		if base != "kustomization.yaml" && base != "nats-values.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("%s is not listed in kustomization.yaml resources", base)
		}
	}
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.Files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
		}
	}
	for _, o := range objs {
		if o.Kind == "Namespace" {
			continue
		}
		ns := o.Obj.(interface{ GetNamespace() string }).GetNamespace()
		if ns != k.Namespace {
			t.Errorf("%s %s: namespace %q, want %q", o.Kind, o.Name, ns, k.Namespace)
		}
	}
}

// The strict decoder refuses what the API server would silently drop.
func TestDecodeRefusesUnknownFields(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n",
		"misplaced":      "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  selector: {a: b}\n",
		"unknown kind":   "apiVersion: v1\nkind: Servce\nmetadata:\n  name: x\n",
		"wrong type":     "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: x\nspec:\n  minAvailable: [1]\n",
		"kind not used":  "apiVersion: v1\nkind: Pod\n",
		"field case":     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          securityContext:\n            readOnlyRootFileSystem: true\n",
		"duplicate keys": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  name: y\n",
	} {
		if _, err := Decode(name, []byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := DecodeKustomization([]byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource: [a.yaml]\n")); err == nil {
		t.Error("kustomization with an unknown field decoded")
	}
}

// flagValue returns the value of --name=value in args.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestDeployment(t *testing.T) {
	k, objs := load(t)
	d := find[*appsv1.Deployment](t, objs)
	pod := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas %v: at least 2, so one survives a node loss", d.Spec.Replicas)
	}
	sel, err := metav1LabelSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the selector does not select the pod template: %v", err)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Error("rolling update must keep every replica until its successor is up (maxUnavailable 0)")
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds <= 60 {
		t.Error("terminationGracePeriodSeconds must exceed the 60 s ack wait, so a drain can finish")
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("the pod must run as a non-root user")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("no service account token: claimgate does not use the Kubernetes API")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Error("container: read-only root filesystem, no privilege escalation, all capabilities dropped")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim || req.Cmp(lim) > 0 {
			t.Errorf("resources %s: request %v and limit %v must both be set, request ≤ limit", r, req.String(), lim.String())
		}
	}
	// serve's soft memory limit is 320 MiB: the limit leaves room above it.
	if lim := c.Resources.Limits[corev1.ResourceMemory]; lim.Value() < 512<<20 {
		t.Errorf("memory limit %s is below 512Mi", lim.String())
	}

	// Probes on the ops listener's /healthz and /readyz.
	if c.Args[0] != "serve" {
		t.Fatalf("args %v: not serve", c.Args)
	}
	ops, ok := flagValue(c.Args, "ops-http")
	if !ok {
		t.Fatal("no --ops-http: probes and /metrics need the ops listener")
	}
	opsPort := ops[strings.LastIndex(ops, ":")+1:]
	var portNum int32
	for _, p := range c.Ports {
		if p.Name == "ops" {
			portNum = p.ContainerPort
		}
	}
	if portNum == 0 || opsPort != itoa(portNum) {
		t.Errorf("container port ops %d, --ops-http %s", portNum, ops)
	}
	for name, pr := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		want := "/readyz"
		if name == "liveness" {
			want = "/healthz"
		}
		if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != want || pr.HTTPGet.Port.String() != "ops" {
			t.Errorf("%s probe: want GET %s on port ops, got %+v", name, want, pr)
		}
	}

	if v, _ := flagValue(c.Args, "replicas"); v != "3" {
		t.Errorf("--replicas=%s: the NATS cluster has 3 nodes", v)
	}
	if v, _ := flagValue(c.Args, "name"); v != "$(POD_NAME)" || !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
	}) {
		t.Error("--name must be the pod name (poll leases need a distinct holder per replica)")
	}
	if _, ok := flagValue(c.Args, "nats-url"); !ok {
		t.Error("no --nats-url")
	}

	// Every mount has a volume; the files the flags name are under mounts
	// of the right volumes.
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	mountOf := func(path string) (corev1.Volume, string, bool) {
		for _, m := range c.VolumeMounts {
			if rest, ok := strings.CutPrefix(path, m.MountPath+"/"); ok {
				return vols[m.Name], rest, true
			}
		}
		return corev1.Volume{}, "", false
	}
	for _, m := range c.VolumeMounts {
		if _, ok := vols[m.Name]; !ok {
			t.Errorf("volumeMount %s: no such volume", m.Name)
		}
	}
	cfg, _ := flagValue(c.Args, "config")
	if v, file, ok := mountOf(cfg); !ok || v.ConfigMap == nil ||
		!slices.ContainsFunc(k.ConfigMapGenerator, func(g struct {
			Name  string   `json:"name"`
			Files []string `json:"files"`
		}) bool {
			return g.Name == v.ConfigMap.Name && slices.Contains(g.Files, file)
		}) {
		t.Errorf("--config=%s is not a file of the generated ConfigMap", cfg)
	}
	tokens, _ := flagValue(c.Args, "api-tokens-file")
	if v, _, ok := mountOf(tokens); !ok || v.Secret == nil || v.Secret.SecretName != "claimgate-api-tokens" {
		t.Errorf("--api-tokens-file=%s is not in the Secret claimgate-api-tokens", tokens)
	}
	if data, _ := flagValue(c.Args, "data"); data != "/data" || !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == data && !m.ReadOnly }) {
		t.Errorf("--data=%s must be a writable mount (the root filesystem is read-only)", data)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" }) {
		t.Error("/tmp must be mounted: temporary 837P files are written there")
	}
	// The SSH keys the configuration names come from the sftp Secret.
	b, err := os.ReadFile(filepath.Join(dir, "claimgate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Payers []struct {
			ID   string `json:"id"`
			SFTP *struct {
				PrivateKey string `json:"private_key"`
				KnownHosts string `json:"known_hosts"`
			} `json:"sftp"`
		} `json:"payers"`
	}
	if err := yaml.Unmarshal(b, &conf); err != nil {
		t.Fatal(err)
	}
	for _, p := range conf.Payers {
		if p.SFTP == nil {
			continue
		}
		for _, path := range []string{strings.TrimPrefix(p.SFTP.PrivateKey, "file:"), p.SFTP.KnownHosts} {
			if path == "" {
				continue
			}
			if v, _, ok := mountOf(path); !ok || v.Secret == nil {
				t.Errorf("payer %s: %s is not in a mounted Secret", p.ID, path)
			}
		}
	}
}

func TestServiceAndPDB(t *testing.T) {
	_, objs := load(t)
	d := find[*appsv1.Deployment](t, objs)
	podLabels := labels.Set(d.Spec.Template.Labels)
	svc := find[*corev1.Service](t, objs)
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) || len(svc.Spec.Selector) == 0 {
		t.Error("the Service does not select the claimgate pods")
	}
	ports := map[string]bool{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		ports[p.Name] = true
	}
	var names []string
	for _, p := range svc.Spec.Ports {
		names = append(names, p.Name)
		if !ports[p.TargetPort.String()] {
			t.Errorf("Service port %s: target %s is no container port", p.Name, p.TargetPort.String())
		}
	}
	if !slices.Contains(names, "ops") || !slices.Contains(names, "http") {
		t.Errorf("Service ports %v: want http and ops", names)
	}
	pdb := find[*policyv1.PodDisruptionBudget](t, objs)
	sel, err := metav1LabelSelector(pdb.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Error("the PodDisruptionBudget does not select the claimgate pods")
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 || int32(pdb.Spec.MinAvailable.IntValue()) >= *d.Spec.Replicas {
		t.Errorf("PodDisruptionBudget minAvailable %v: at least 1 and below the %d replicas, or a drain can never proceed", pdb.Spec.MinAvailable, *d.Spec.Replicas)
	}
	sa := find[*corev1.ServiceAccount](t, objs)
	if d.Spec.Template.Spec.ServiceAccountName != sa.Name {
		t.Errorf("the pods run as %q, the manifests create %q", d.Spec.Template.Spec.ServiceAccountName, sa.Name)
	}
}

// The Helm values make a 3-node JetStream cluster that syncs every write.
func TestNATSValues(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(dir, "nats-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config struct {
			Cluster struct {
				Enabled  bool `json:"enabled"`
				Replicas int  `json:"replicas"`
			} `json:"cluster"`
			JetStream struct {
				Enabled   bool `json:"enabled"`
				FileStore struct {
					Enabled bool `json:"enabled"`
					PVC     struct {
						Enabled bool   `json:"enabled"`
						Size    string `json:"size"`
					} `json:"pvc"`
				} `json:"fileStore"`
				Merge map[string]any `json:"merge"`
			} `json:"jetstream"`
		} `json:"config"`
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	c := v.Config
	if !c.Cluster.Enabled || c.Cluster.Replicas != 3 {
		t.Errorf("cluster %+v: want 3 nodes", c.Cluster)
	}
	if !c.JetStream.Enabled || !c.JetStream.FileStore.Enabled || !c.JetStream.FileStore.PVC.Enabled || c.JetStream.FileStore.PVC.Size == "" {
		t.Errorf("jetstream %+v: want a file store on persistent volumes", c.JetStream)
	}
	if c.JetStream.Merge["sync_interval"] != "always" {
		t.Errorf("jetstream sync_interval %v: want always (docs/bus.md, Durability)", c.JetStream.Merge["sync_interval"])
	}
}
