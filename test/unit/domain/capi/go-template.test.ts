import { renderTemplate, semverCompare, TemplateUnsupportedError } from '../../../../functions/domain/capi/index.js';

const DATA = {
  region: 'us-west-2',
  empty: '',
  enabled: true,
  count: 0,
  pss: { enforce: 'baseline' },
  builtin: { controlPlane: { version: 'v1.32.5+build.1' }, machineDeployment: { version: 'v1.31.0' } },
};

describe('renderTemplate', () => {
  it.each([
    { template: 'region={{ .region }}', expected: 'region=us-west-2' },
    { template: '{{ .pss.enforce }}', expected: 'baseline' },
    { template: '{{ .missing }}', expected: '<no value>' },
    { template: '{{ ne .empty "" }}', expected: 'false' },
    { template: '{{ eq .region "eu-west-1" "us-west-2" }}', expected: 'true' },
    { template: '{{ .enabled }}', expected: 'true' },
    { template: '{{ not .count }}', expected: 'true' },
    { template: '{{ and .enabled .region }}', expected: 'us-west-2' },
    { template: '{{ or .empty "fallback" }}', expected: 'fallback' },
    { template: 'kindest/node:{{ .builtin.controlPlane.version | replace "+" "_" }}', expected: 'kindest/node:v1.32.5_build.1' },
    { template: '{{ .empty | default "d" | upper | quote }}', expected: '"D"' },
    { template: '{{ if .enabled }}on{{ else }}off{{ end }}', expected: 'on' },
    { template: '{{ if .empty }}a{{ else if eq .region "us-west-2" }}b{{ else }}c{{ end }}', expected: 'b' },
    { template: 'v1{{ if semverCompare "< v1.25-0" .builtin.controlPlane.version }}beta1{{ end }}', expected: 'v1' },
    { template: 'a  {{- .region -}}  b', expected: 'aus-west-2b' },
    { template: '{{/* a comment */}}x', expected: 'x' },
  ])('renders $template', ({ template, expected }) => {
    // Act
    const result = renderTemplate(template, DATA);
    // Assess
    expect(result).toBe(expected);
  });

  it.each([
    { template: '{{ printf "%s" .region }}', message: 'template function "printf" is not supported' },
    { template: '{{ range .list }}x{{ end }}', message: 'template action "range" is not supported' },
    { template: '{{ $x := 1 }}', message: 'template variables ($x := 1) are not supported' },
    { template: '{{ if .enabled }}never closed', message: 'template: {{ if }} without {{ end }}' },
  ])('fails when the template uses $template', ({ template, message }) => {
    // Act
    const act = (): string => renderTemplate(template, DATA);
    // Assess
    expect(act).toThrow(TemplateUnsupportedError);
    expect(act).toThrow(message);
  });
});

describe('semverCompare', () => {
  it.each([
    { constraint: '< v1.25-0', version: 'v1.24.9', expected: true },
    { constraint: '< v1.25-0', version: 'v1.25.0-rc.1', expected: false },
    { constraint: '< v1.25-0', version: 'v1.32.5', expected: false },
    { constraint: '>= 1.30', version: 'v1.30.0', expected: true },
    { constraint: '>= 1.28, < 1.30', version: 'v1.29.3', expected: true },
    { constraint: '< 1.20 || > 1.31', version: 'v1.32.0', expected: true },
    { constraint: '!= 1.32.5', version: 'v1.32.5', expected: false },
  ])('says $expected for $version against "$constraint"', ({ constraint, version, expected }) => {
    // Act
    const result = semverCompare(constraint, version);
    // Assess
    expect(result).toBe(expected);
  });

  it('fails when the constraint uses ~ or ^', () => {
    // Act
    const act = (): boolean => semverCompare('~1.30', 'v1.30.1');
    // Assess
    expect(act).toThrow(TemplateUnsupportedError);
  });
});
