{{/*
Expand the name of the chart.
*/}}
{{- define "openclaw-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name (truncated to 63 characters for DNS names).
*/}}
{{- define "openclaw-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "openclaw-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "openclaw-gateway.labels" -}}
helm.sh/chart: {{ include "openclaw-gateway.chart" . }}
{{ include "openclaw-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: openclaw
{{- end }}

{{/*
Selector labels of the gateway pods.
*/}}
{{- define "openclaw-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "openclaw-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{/*
Labels and selector labels of the bundled Redis.
*/}}
{{- define "openclaw-gateway.redis.fullname" -}}
{{- printf "%s-redis" (include "openclaw-gateway.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "openclaw-gateway.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "openclaw-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "openclaw-gateway.redis.labels" -}}
helm.sh/chart: {{ include "openclaw-gateway.chart" . }}
{{ include "openclaw-gateway.redis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.redis.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: openclaw
{{- end }}

{{- define "openclaw-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "openclaw-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "openclaw-gateway.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding the gateway's secrets.
*/}}
{{- define "openclaw-gateway.secretName" -}}
{{- default (include "openclaw-gateway.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
Secret key names (the chart's own Secret uses the same names as existingSecretKeys' defaults).
*/}}
{{- define "openclaw-gateway.secretKey" -}}
{{- $root := index . 0 }}{{- $which := index . 1 }}
{{- if $root.Values.existingSecret }}
{{- index $root.Values.existingSecretKeys $which }}
{{- else }}
{{- index (dict "token" "gateway-token" "password" "gateway-password" "upstreamApiKey" "upstream-api-key" "redisPassword" "redis-password") $which }}
{{- end }}
{{- end }}

{{/*
true when any external Redis mode is configured.
*/}}
{{- define "openclaw-gateway.externalRedisEnabled" -}}
{{- $r := .Values.externalRedis }}
{{- if or $r.url (gt (len $r.sentinels) 0) (gt (len $r.clusterNodes) 0) }}true{{ end }}
{{- end }}

{{- define "openclaw-gateway.redisEnabled" -}}
{{- if or .Values.redis.enabled (include "openclaw-gateway.externalRedisEnabled" .) }}true{{ end }}
{{- end }}

{{/*
Where the Redis password comes from: "secretName|key", or empty when there is none.
*/}}
{{- define "openclaw-gateway.redisPasswordRef" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}
{{- printf "%s|%s" (include "openclaw-gateway.secretName" .) (include "openclaw-gateway.secretKey" (list . "redisPassword")) }}
{{- end }}
{{- else if include "openclaw-gateway.externalRedisEnabled" . }}
{{- if .Values.externalRedis.existingSecret }}
{{- printf "%s|%s" .Values.externalRedis.existingSecret .Values.externalRedis.existingSecretPasswordKey }}
{{- else if .Values.existingSecret }}
{{- printf "%s|%s" .Values.existingSecret .Values.existingSecretKeys.redisPassword }}
{{- else if .Values.externalRedis.password }}
{{- printf "%s|%s" (include "openclaw-gateway.fullname" .) "redis-password" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Input checks. Included by the Deployment so that every render runs them.
*/}}
{{- define "openclaw-gateway.validate" -}}
{{- $external := include "openclaw-gateway.externalRedisEnabled" . }}
{{- if and (not .Values.redis.enabled) (not $external) (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- fail (printf "\n\nopenclaw-gateway: replicaCount=%v / autoscaling.enabled=%v needs a shared Redis: the embedded store is per replica (rate-limit counters, paired devices and pairing requests would differ between pods). Set redis.enabled=true, or externalRedis.url, externalRedis.sentinels + externalRedis.sentinelName, or externalRedis.clusterNodes; or keep replicaCount=1 without autoscaling." .Values.replicaCount .Values.autoscaling.enabled) }}
{{- end }}
{{- if and .Values.redis.enabled $external }}
{{- fail "\n\nopenclaw-gateway: set either redis.enabled (bundled Redis) or externalRedis.*, not both." }}
{{- end }}
{{- $r := .Values.externalRedis }}
{{- $modes := 0 }}
{{- if $r.url }}{{ $modes = add1 $modes }}{{ end }}
{{- if gt (len $r.sentinels) 0 }}{{ $modes = add1 $modes }}{{ end }}
{{- if gt (len $r.clusterNodes) 0 }}{{ $modes = add1 $modes }}{{ end }}
{{- if gt $modes 1 }}
{{- fail "\n\nopenclaw-gateway: set only one of externalRedis.url, externalRedis.sentinels or externalRedis.clusterNodes." }}
{{- end }}
{{- if and (gt (len $r.sentinels) 0) (not $r.sentinelName) }}
{{- fail "\n\nopenclaw-gateway: externalRedis.sentinelName is required with externalRedis.sentinels." }}
{{- end }}
{{- if and $r.url (regexMatch "^rediss?://[^/@]*:[^/@]*@" $r.url) }}
{{- fail "\n\nopenclaw-gateway: externalRedis.url must not contain a password (it would land in the ConfigMap); use externalRedis.password or externalRedis.existingSecret." }}
{{- end }}
{{- $a := .Values.gateway.auth }}
{{- if not (or .Values.existingSecret $a.token $a.generateToken $a.password $a.trustedProxy.enabled (ne .Values.gateway.tailscale.mode "disabled") (eq .Values.gateway.bind "loopback")) }}
{{- fail "\n\nopenclaw-gateway: the pod listens beyond loopback, so it needs a credential: keep gateway.auth.generateToken=true, or set gateway.auth.token, gateway.auth.password, existingSecret, gateway.tailscale.mode or gateway.auth.trustedProxy." }}
{{- end }}
{{- if and .Values.gateway.auth.trustedProxy.enabled (eq (len .Values.gateway.trustedProxies) 0) }}
{{- fail "\n\nopenclaw-gateway: gateway.auth.trustedProxy.enabled needs gateway.trustedProxies (the IPs/CIDRs of your proxy or ingress pods)." }}
{{- end }}
{{- range $k := list "auth" "upstream" "redis" }}
{{- $section := index $.Values.gateway.extraConfig $k | default dict }}
{{- range $secret := list "token" "password" "apiKey" }}
{{- if hasKey $section $secret }}
{{- fail (printf "\n\nopenclaw-gateway: gateway.extraConfig.%s.%s is a secret and must not go to the ConfigMap; use gateway.auth.* / gateway.upstream.apiKey / existingSecret." $k $secret) }}
{{- end }}
{{- end }}
{{- end }}
{{- $min := add (int .Values.lifecycle.preStopSleepSeconds) (int .Values.gateway.shutdown.drainSeconds) }}
{{- if and (not (kindIs "invalid" .Values.terminationGracePeriodSeconds)) (lt (int .Values.terminationGracePeriodSeconds) (int $min)) }}
{{- fail (printf "\n\nopenclaw-gateway: terminationGracePeriodSeconds (%v) must cover lifecycle.preStopSleepSeconds + gateway.shutdown.drainSeconds (%d)." .Values.terminationGracePeriodSeconds $min) }}
{{- end }}
{{- end }}

{{- define "openclaw-gateway.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add (int .Values.lifecycle.preStopSleepSeconds) (int .Values.gateway.shutdown.drainSeconds) 20 }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Redis settings for the config file (no password: that reaches the pod as OPENCLAW_REDIS_PASSWORD).
*/}}
{{- define "openclaw-gateway.redisConfig" -}}
{{- $redis := dict "keyPrefix" .Values.gateway.redis.keyPrefix }}
{{- if .Values.redis.enabled }}
{{- $_ := set $redis "url" (printf "redis://%s.%s.svc:6379" (include "openclaw-gateway.redis.fullname" .) .Release.Namespace) }}
{{- else if .Values.externalRedis.url }}
{{- $_ := set $redis "url" .Values.externalRedis.url }}
{{- else if gt (len .Values.externalRedis.sentinels) 0 }}
{{- $_ := set $redis "sentinels" .Values.externalRedis.sentinels }}
{{- $_ := set $redis "sentinelName" .Values.externalRedis.sentinelName }}
{{- else if gt (len .Values.externalRedis.clusterNodes) 0 }}
{{- $_ := set $redis "clusterNodes" .Values.externalRedis.clusterNodes }}
{{- end }}
{{- toYaml $redis }}
{{- end }}

{{/*
The gateway config file (YAML, top-level `gateway:`). Never contains a secret.
*/}}
{{- define "openclaw-gateway.configFile" -}}
{{- $g := .Values.gateway }}
{{- $auth := dict
  "allowLoopback" $g.auth.allowLoopback
  "trustedProxy" (dict "enabled" $g.auth.trustedProxy.enabled "header" $g.auth.trustedProxy.header)
  "rateLimit" (dict "maxFailures" (int $g.auth.rateLimit.maxFailures) "windowSeconds" (int $g.auth.rateLimit.windowSeconds) "onStoreFailure" $g.auth.rateLimit.onStoreFailure) }}
{{- $cfg := dict
  "port" (int $g.port)
  "bind" $g.bind
  "auth" $auth
  "trustedProxies" $g.trustedProxies
  "tailscale" (dict "mode" $g.tailscale.mode)
  "redis" (include "openclaw-gateway.redisConfig" . | fromYaml)
  "pairing" (dict "ttlSeconds" (int $g.pairing.ttlSeconds))
  "upstream" (dict "url" $g.upstream.url "model" $g.upstream.model)
  "metrics" (dict "port" (int $g.metrics.port))
  "log" (dict "level" $g.log.level)
  "shutdown" (dict "drainSeconds" (int $g.shutdown.drainSeconds)) }}
{{- $merged := mergeOverwrite (deepCopy $g.extraConfig) $cfg }}
{{- toYaml (dict "gateway" $merged) }}
{{- end }}

{{/*
Generated secrets: reuse the value in the live Secret (lookup) across upgrades, else generate once
per render (memoised, so the Secret and its checksum annotation agree). 64 lowercase hex
characters, like `openssl rand -hex 32`.
*/}}
{{- define "openclaw-gateway.generatedSecret" -}}
{{- $root := index . 0 }}{{- $key := index . 1 }}
{{- $cache := get $root.Values "__openclawGenerated" | default dict }}
{{- if not (hasKey $cache $key) }}
{{- $value := "" }}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace (include "openclaw-gateway.fullname" $root) }}
{{- if and $existing $existing.data (hasKey $existing.data $key) }}
{{- $value = index $existing.data $key | b64dec }}
{{- else }}
{{- $value = randBytes 32 | sha256sum }}
{{- end }}
{{- $_ := set $cache $key $value }}
{{- $_ := set $root.Values "__openclawGenerated" $cache }}
{{- end }}
{{- index $cache $key }}
{{- end }}

{{/*
The chart Secret's data (only rendered without existingSecret).
*/}}
{{- define "openclaw-gateway.secretData" -}}
{{- $g := .Values.gateway }}
{{- $data := dict }}
{{- if $g.auth.token }}
{{- $_ := set $data "gateway-token" $g.auth.token }}
{{- else if $g.auth.generateToken }}
{{- $_ := set $data "gateway-token" (include "openclaw-gateway.generatedSecret" (list . "gateway-token")) }}
{{- end }}
{{- if $g.auth.password }}
{{- $_ := set $data "gateway-password" $g.auth.password }}
{{- end }}
{{- if $g.upstream.apiKey }}
{{- $_ := set $data "upstream-api-key" $g.upstream.apiKey }}
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.auth.enabled }}
{{- if .Values.redis.auth.password }}
{{- $_ := set $data "redis-password" .Values.redis.auth.password }}
{{- else }}
{{- $_ := set $data "redis-password" (include "openclaw-gateway.generatedSecret" (list . "redis-password")) }}
{{- end }}
{{- else if and (include "openclaw-gateway.externalRedisEnabled" .) .Values.externalRedis.password (not .Values.externalRedis.existingSecret) }}
{{- $_ := set $data "redis-password" .Values.externalRedis.password }}
{{- end }}
{{- range $k, $v := $data }}
{{ $k }}: {{ $v | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
Selector labels of the `helm test` pod.
*/}}
{{- define "openclaw-gateway.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "openclaw-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end }}

{{/*
The address a client inside the pod uses to reach the gateway (for `kubectl exec ... openclaw ...`).
*/}}
{{- define "openclaw-gateway.localHost" -}}
{{- $bind := .Values.gateway.bind }}
{{- if or (eq $bind "lan") (eq $bind "loopback") }}127.0.0.1
{{- else if contains ":" $bind }}[{{ $bind }}]
{{- else }}{{ $bind }}
{{- end }}
{{- end }}

{{/*
Checksum of the bundled Redis's password source.
*/}}
{{- define "openclaw-gateway.redisPasswordChecksum" -}}
{{- if .Values.existingSecret }}
{{- printf "%s|%s" .Values.existingSecret .Values.existingSecretKeys.redisPassword | sha256sum }}
{{- else if .Values.redis.auth.password }}
{{- .Values.redis.auth.password | sha256sum }}
{{- else }}
{{- include "openclaw-gateway.generatedSecret" (list . "redis-password") | sha256sum }}
{{- end }}
{{- end }}
