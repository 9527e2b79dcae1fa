package check

import (
	"os/exec"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// kubectl's built-in kustomize renders the kustomization (offline, no
// cluster), and what it renders decodes strictly too; the Deployment then
// mounts the generated ConfigMap under its hashed name.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: the kustomization is checked by decoding only")
	}
	out, err := exec.Command(kubectl, "kustomize", dir).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	objs, err := Decode("kubectl kustomize", out)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs)
	if _, ok := cm.Data["claimgate.json"]; !ok || cm.Namespace != "claimgate" {
		t.Errorf("generated ConfigMap %s/%s has no claimgate.json", cm.Namespace, cm.Name)
	}
	d := find[*appsv1.Deployment](t, objs)
	mounted := false
	for _, v := range d.Spec.Template.Spec.Volumes {
		mounted = mounted || (v.ConfigMap != nil && v.ConfigMap.Name == cm.Name)
	}
	if !mounted {
		t.Errorf("the Deployment does not mount the generated ConfigMap %s", cm.Name)
	}
}
