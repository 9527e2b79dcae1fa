// Package check decodes claimgate's Kubernetes manifests (deploy/k8s)
// strictly into the Kubernetes API types, so that a misspelt or misplaced
// field fails a test instead of being ignored by the API server. It is a
// module of its own: k8s.io stays out of claimgate's go.mod.
package check

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Object is one decoded manifest.
type Object struct {
	File string
	Kind string
	Name string
	// Obj is a pointer to the API type: *appsv1.Deployment,
	// *corev1.Service, ...
	Obj any
}

// kinds maps apiVersion and kind to a new value of the API type.
var kinds = map[string]func() any{
	"v1/Namespace":                  func() any { return new(corev1.Namespace) },
	"v1/ServiceAccount":             func() any { return new(corev1.ServiceAccount) },
	"v1/Service":                    func() any { return new(corev1.Service) },
	"v1/ConfigMap":                  func() any { return new(corev1.ConfigMap) },
	"apps/v1/Deployment":            func() any { return new(appsv1.Deployment) },
	"apps/v1/StatefulSet":           func() any { return new(appsv1.StatefulSet) },
	"policy/v1/PodDisruptionBudget": func() any { return new(policyv1.PodDisruptionBudget) },
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// Decode decodes every YAML document of a manifest file strictly: an
// unknown field, a duplicate field or an unknown kind is an error.
func Decode(file string, data []byte) ([]Object, error) {
	var out []Object
	for i, doc := range docSep.Split(string(data), -1) {
		if len(bytes.TrimSpace([]byte(stripComments(doc)))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: document %d: unknown apiVersion/kind %s/%s", file, i+1, tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := unmarshalStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("%s: document %d (%s): %w", file, i+1, tm.Kind, err)
		}
		name := ""
		if m, ok := obj.(metav1.Object); ok {
			name = m.GetName()
		}
		out = append(out, Object{File: file, Kind: tm.Kind, Name: name, Obj: obj})
	}
	return out, nil
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(s string) string { return commentLine.ReplaceAllString(s, "") }

// Kustomization is the part of kustomization.yaml the manifests use;
// decoding it strictly refuses any other field.
type Kustomization struct {
	APIVersion         string   `json:"apiVersion"`
	Kind               string   `json:"kind"`
	Namespace          string   `json:"namespace"`
	Resources          []string `json:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `json:"name"`
		Files []string `json:"files"`
	} `json:"configMapGenerator"`
}

// DecodeKustomization decodes kustomization.yaml strictly.
func DecodeKustomization(data []byte) (*Kustomization, error) {
	var k Kustomization
	if err := unmarshalStrict(data, &k); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return nil, fmt.Errorf("kustomization.yaml: apiVersion/kind %s/%s", k.APIVersion, k.Kind)
	}
	return &k, nil
}

// unmarshalStrict decodes YAML as the API server decodes a strict
// request: duplicate keys, unknown fields and fields that match only when
// case is ignored (readOnlyRootFileSystem) are errors. sigs.k8s.io/yaml's
// own UnmarshalStrict goes through encoding/json, which matches field
// names case-insensitively.
func unmarshalStrict(data []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return errors.Join(strict...)
	}
	return nil
}
