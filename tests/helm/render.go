// render: the part of `helm template` the chart tests need, on Debian's Go packages only
// (text/template, sprig v3, yaml.v3), built in GOPATH mode without network.
//
//	render [--name NAME] [--namespace NS] [-f values.yaml]... [--set a.b=c]...
//	       [--kube-version v1.28.0] [--include-crds] [--json] CHART_DIR
//
// Templates see what Helm gives them: .Values (values.yaml, then each -f file merged over
// it, then --set), .Release (Name, Namespace, Service, IsInstall, IsUpgrade, Revision),
// .Chart (Chart.yaml, Helm's capitalized keys), .Capabilities (KubeVersion, APIVersions.Has),
// .Template (Name, BasePath); functions: sprig's (less env/expandenv, as Helm), include, tpl,
// required, toYaml, fromYaml, toJson, fromJson, lookup (always empty, as `helm template`).
// Partials are templates/_*.tpl. Output: each rendered file as `---\n# Source: chart/path`,
// files that render to whitespace left out, like `helm template`; with --json, a JSON array of
// the manifests instead (for tests without a YAML library).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "render: "+format+"\n", args...)
	os.Exit(1)
}

func readYAML(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", path, err)
	}
	if out == nil {
		out = map[string]interface{}{}
	}
	return out
}

// merge copies src over dst, recursing into maps (Helm's coalescing: a null deletes a key).
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// setValue applies one `a.b.c=v` of --set (comma-separated pairs; `\,` escapes a comma).
func setValue(values map[string]interface{}, expr string) {
	var pairs []string
	var cur strings.Builder
	for i := 0; i < len(expr); i++ {
		if expr[i] == '\\' && i+1 < len(expr) {
			cur.WriteByte(expr[i+1])
			i++
		} else if expr[i] == ',' {
			pairs = append(pairs, cur.String())
			cur.Reset()
		} else {
			cur.WriteByte(expr[i])
		}
	}
	pairs = append(pairs, cur.String())
	for _, p := range pairs {
		eq := strings.IndexByte(p, '=')
		if eq < 0 {
			fail("--set %q: expected key=value", p)
		}
		keys := strings.Split(p[:eq], ".")
		raw := p[eq+1:]
		var v interface{} = raw
		if raw == "true" || raw == "false" {
			v = raw == "true"
		} else if raw == "null" {
			v = nil
		} else if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			v = n
		}
		m := values
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]interface{})
			if !ok {
				next = map[string]interface{}{}
				m[k] = next
			}
			m = next
		}
		if v == nil {
			delete(m, keys[len(keys)-1])
		} else {
			m[keys[len(keys)-1]] = v
		}
	}
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	name, namespace, kubeVersion := "release-name", "default", "v1.28.0"
	var valueFiles, sets []string
	includeCRDs, asJSON := false, false
	var chartDir string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 >= len(args) {
				fail("%s needs a value", a)
			}
			i++
			return args[i]
		}
		switch a {
		case "--name":
			name = next()
		case "--namespace", "-n":
			namespace = next()
		case "-f", "--values":
			valueFiles = append(valueFiles, next())
		case "--set":
			sets = append(sets, next())
		case "--kube-version":
			kubeVersion = next()
		case "--include-crds":
			includeCRDs = true
		case "--json":
			asJSON = true
		default:
			if strings.HasPrefix(a, "-") || chartDir != "" {
				fail("unexpected argument %q", a)
			}
			chartDir = a
		}
	}
	if chartDir == "" {
		fail("usage: render [--name N] [--namespace NS] [-f FILE]... [--set a=b]... CHART_DIR")
	}

	chartYAML := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	chart := map[string]interface{}{}
	for k, v := range chartYAML {
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	chartName, _ := chart["Name"].(string)
	if chartName == "" {
		fail("%s/Chart.yaml: no name", chartDir)
	}
	values := readYAML(filepath.Join(chartDir, "values.yaml"))
	for _, f := range valueFiles {
		merge(values, readYAML(f))
	}
	for _, s := range sets {
		setValue(values, s)
	}
	kv := strings.TrimPrefix(kubeVersion, "v")
	parts := strings.SplitN(kv, ".", 3)
	if len(parts) < 2 {
		fail("--kube-version %q: expected vMAJOR.MINOR.PATCH", kubeVersion)
	}
	capabilities := map[string]interface{}{
		"KubeVersion": map[string]interface{}{
			"Version": "v" + kv, "GitVersion": "v" + kv, "Major": parts[0], "Minor": parts[1],
		},
		"APIVersions": apiVersions{"v1", "apps/v1", "policy/v1", "autoscaling/v2",
			"rbac.authorization.k8s.io/v1", "admissionregistration.k8s.io/v1",
			"apiextensions.k8s.io/v1", "networking.istio.io/v1beta1", "security.istio.io/v1beta1"},
	}
	release := map[string]interface{}{
		"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": true,
		"IsUpgrade": false, "Revision": 1,
	}

	// Every file under templates/, named as Helm names them (chart/templates/...).
	var files []string
	root := filepath.Join(chartDir, "templates")
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		fail("%v", err)
	}
	sort.Strings(files)

	t := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includeDepth := 0
	funcs["include"] = func(name string, data interface{}) (string, error) {
		includeDepth++
		defer func() { includeDepth-- }()
		if includeDepth > 1000 {
			return "", fmt.Errorf("include %q: recursion too deep", name)
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		inner, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		var buf bytes.Buffer
		if err := inner.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["lookup"] = func(apiVersion, kind, namespace, name string) map[string]interface{} {
		return map[string]interface{}{}
	}
	t.Funcs(funcs)
	names := make([]string, len(files))
	for i, f := range files {
		rel, _ := filepath.Rel(chartDir, f)
		names[i] = chartName + "/" + filepath.ToSlash(rel)
		data, err := os.ReadFile(f)
		if err != nil {
			fail("%v", err)
		}
		if _, err := t.New(names[i]).Parse(string(data)); err != nil {
			fail("parse: %v", err)
		}
	}

	var out bytes.Buffer
	if includeCRDs {
		crds, _ := filepath.Glob(filepath.Join(chartDir, "crds", "*.yaml"))
		sort.Strings(crds)
		for _, f := range crds {
			data, err := os.ReadFile(f)
			if err != nil {
				fail("%v", err)
			}
			rel, _ := filepath.Rel(chartDir, f)
			fmt.Fprintf(&out, "---\n# Source: %s/%s\n%s\n", chartName, filepath.ToSlash(rel),
				strings.TrimSpace(string(data)))
		}
	}
	for _, n := range names {
		base := filepath.Base(n)
		if strings.HasPrefix(base, "_") || strings.HasSuffix(base, "NOTES.txt") {
			continue
		}
		data := map[string]interface{}{
			"Values": values, "Release": release, "Chart": chart, "Capabilities": capabilities,
			"Template": map[string]interface{}{"Name": n, "BasePath": chartName + "/templates"},
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, n, data); err != nil {
			fail("%v", err)
		}
		s := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(s) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", n, strings.TrimSpace(s))
	}
	if !asJSON {
		os.Stdout.Write(out.Bytes())
		return
	}
	docs := []interface{}{}
	dec := yaml.NewDecoder(&out)
	for {
		var doc interface{}
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("rendered output is not YAML: %v", err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	b, err := json.MarshalIndent(docs, "", " ")
	if err != nil {
		fail("rendered output has no JSON form: %v", err)
	}
	os.Stdout.Write(append(b, '\n'))
}
