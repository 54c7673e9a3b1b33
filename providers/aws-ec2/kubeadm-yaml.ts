/**
 * kubeadm documents as YAML that kubeadm reads back value for value: kubeadm decodes with go-yaml v2 (YAML 1.1 words,
 * Go's number syntax), so every string it would read as a bool, a null or a number is quoted. Its own file because
 * this is about kubeadm's YAML reader, not about what the documents say (kubeadm-config.ts); checked against kubeadm's
 * Go types in test/providers/aws-ec2/kubeadm-types.test.ts.
 */
import { Document, Scalar, visit, type Tags } from 'yaml';

/**
 * Plain scalars go-yaml v2 reads as a bool, a null, an infinity/NaN or a merge key: its resolve table (YAML 1.1's
 * words, in these spellings only: `yEs` stays a string).
 */
const GO_YAML_V2_WORDS = new Set([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'],
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'],
  ...['', '~', 'null', 'Null', 'NULL', '.nan', '.NaN', '.NAN', '<<'],
  ...['', '+', '-'].flatMap((sign) => ['.inf', '.Inf', '.INF'].map((inf) => sign + inf)),
]);
/** Go's strconv.ParseInt/ParseUint with base 0 (sign; 0x, 0o, 0b, or a leading 0 for octal; any size: big.Int). */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
/** go-yaml v2's `yamlStyleFloat`. */
const GO_YAML_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/**
 * Whether kubeadm reads `value`, written as a plain scalar, as something other than this string. kubeadm decodes
 * YAML with sigs.k8s.io/yaml, whose go-yaml v2 resolves plain scalars by YAML 1.1 words and by Go's number syntax
 * after deleting every `_` (kubernetes-sigs/yaml goyaml.v2/resolve.go `resolve`): `yes`, `off`, `1_000`, `0x1F`,
 * `0o17`, `017`, `1e1_0`, `+_1` are not strings to it. Timestamps stay strings when decoded into JSON (decode.go), and
 * base-60 numbers are not read at all. May say yes for a string kubeadm would keep (quoting it is harmless), never no
 * for one it would not.
 */
function kubeadmReadsAsNonString(value: string): boolean {
  if (GO_YAML_V2_WORDS.has(value)) return true;
  if (!/^[-+.0-9]/.test(value)) return false;
  const plain = value.replaceAll('_', '');
  return GO_INT.test(plain) || GO_YAML_FLOAT.test(plain);
}

/**
 * One kubeadm document as YAML that kubeadm reads back value for value. `version: '1.1'` has `yaml` quote every
 * string YAML 1.1 would resolve to something else (`yes`, `no`, `on`, `y`, `~`, `1_000`, `0x1F`, `017`, `1:20`,
 * `2025-01-02`); it leaves plain the Go-only forms go-yaml v2 also reads as numbers (`0o17`, `0X1F`, `0B1`, `1e1_0`,
 * `+_1`), which `kubeadmReadsAsNonString` quotes. Keys too: a flag named `on` would otherwise become `true`.
 * Note: the YAML 1.1 merge tag is left out: with it, `yaml` writes the string `<<` as a plain merge key, quoting or not.
 */
export function kubeadmYaml(doc: Record<string, unknown>): string {
  const withoutMergeKeys = (tags: Tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:merge');
  const yaml = new Document(doc, { version: '1.1', customTags: withoutMergeKeys });
  visit(yaml, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && kubeadmReadsAsNonString(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return yaml.toString();
}
