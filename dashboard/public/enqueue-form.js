// The enqueue form: fields drawn from a job type's payload schema (JSON Schema from GET /api/job-types),
// a JSON textarea for schemas the fields cannot say. The server's zod check at enqueue is the rule; the
// form sets no constraints of its own (novalidate), so a bad value comes back as the server's typed error.

/** A schema the fields can draw: string (or enum), number, integer, boolean, or an object of those. */
function isSimple(schema) {
  if (!schema || typeof schema !== 'object') return false;
  if (Array.isArray(schema.enum)) return schema.enum.every((value) => typeof value === 'string');
  if (schema.type === 'object') {
    const properties = schema.properties ?? {};
    // An object that takes extra keys (a record) needs the textarea.
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) return false;
    return Object.values(properties).every(isSimple);
  }
  return ['string', 'number', 'integer', 'boolean'].includes(schema.type);
}

/**
 * Draws the fields of `schema` into `container` and returns a function reading the payload back,
 * which throws an Error with a message for the user when the JSON textarea does not parse.
 */
export function renderPayloadForm(container, schema, el) {
  if (!isSimple(schema) || schema.type !== 'object') {
    const example = schema?.type === 'object' ? '{}' : '';
    const area = el('textarea', { name: 'payload', rows: 6, 'data-testid': 'enqueue-json', spellcheck: 'false' }, example);
    container.replaceChildren(
      el('label', { class: 'field' }, el('span', {}, 'payload (JSON)'), area),
      schema ? el('pre', { class: 'small' }, JSON.stringify(schema, null, 2)) : el('p', { class: 'muted small' }, 'no schema'),
    );
    return () => {
      try {
        return JSON.parse(area.value);
      } catch (error) {
        throw new Error(`payload is not JSON: ${error.message}`);
      }
    };
  }
  const { node, read } = objectFields(schema, [], el);
  container.replaceChildren(node);
  return read;
}

/** The fields of an object schema, and a reader that leaves out optional fields left empty. */
function objectFields(schema, path, el) {
  const required = new Set(schema.required ?? []);
  const readers = [];
  const nodes = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const fieldPath = [...path, name];
    const label = `${name}${required.has(name) ? '' : ' (optional)'}`;
    if (property.type === 'object') {
      const inner = objectFields(property, fieldPath, el);
      readers.push([name, inner.read]);
      return el('fieldset', { 'data-field': fieldPath.join('.') }, el('legend', {}, label), inner.node);
    }
    const { input, read } = scalarInput(property, fieldPath, el);
    readers.push([name, read]);
    return el('label', { class: 'field' }, el('span', {}, label), input, hint(property, el));
  });
  const read = () => {
    const payload = {};
    for (const [name, readField] of readers) {
      const value = readField();
      if (value !== undefined) payload[name] = value;
    }
    return payload;
  };
  return { node: el('div', {}, nodes), read };
}

/** One input for a string, enum, number, integer or boolean; its reader gives undefined when left empty. */
function scalarInput(schema, path, el) {
  const name = path.join('.');
  const attributes = { name, 'data-testid': `field-${name}` };
  if (Array.isArray(schema.enum)) {
    const input = el(
      'select',
      attributes,
      el('option', { value: '' }, '–'),
      ...schema.enum.map((value) => el('option', { value }, value)),
    );
    if (schema.default !== undefined) input.value = schema.default;
    return { input, read: () => (input.value === '' ? undefined : input.value) };
  }
  if (schema.type === 'boolean') {
    const input = el('input', { ...attributes, type: 'checkbox', checked: schema.default === true });
    return { input, read: () => input.checked };
  }
  if (schema.type === 'number' || schema.type === 'integer') {
    // Text, not type=number: the browser would turn a mistyped number into '' and hide it from the server.
    const input = el('input', { ...attributes, inputmode: 'decimal', size: 12, value: schema.default });
    return {
      input,
      read: () => {
        const text = input.value.trim();
        if (text === '') return undefined;
        const number = Number(text);
        // Sent as typed when it is no number: the server's schema check names the field.
        return Number.isNaN(number) ? text : number;
      },
    };
  }
  const input = el('input', { ...attributes, size: 30, value: schema.default });
  return { input, read: () => (input.value === '' ? undefined : input.value) };
}

/** What the schema says of a field, in a few words. */
function hint(schema, el) {
  const parts = [
    schema.type === 'integer' ? 'integer' : undefined,
    schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER ? `≥ ${schema.minimum}` : undefined,
    schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? `≤ ${schema.maximum}` : undefined,
    schema.minLength !== undefined ? `min ${schema.minLength} chars` : undefined,
    schema.maxLength !== undefined ? `max ${schema.maxLength} chars` : undefined,
    schema.format,
    schema.description,
  ].filter(Boolean);
  return parts.length > 0 ? el('span', { class: 'muted small' }, ` ${parts.join(', ')}`) : undefined;
}
