/** Credentials shown once (enrollment codes, rotated tokens and keys): the API keeps only their hashes. */
export function OneTimeSecret({ title, values, onClose }: { title: string; values: Record<string, string | null>; onClose(): void }) {
  return (
    <div className="card secret" role="dialog" aria-label={title}>
      <h2>{title}</h2>
      <p className="muted small">Shown once: copy it to the gateway now. Wattflow keeps only a hash.</p>
      <dl>
        {Object.entries(values)
          .filter((entry): entry is [string, string] => entry[1] !== null)
          .map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>
                <code data-testid={`secret-${key}`}>{value}</code>
              </dd>
            </div>
          ))}
      </dl>
      <button type="button" className="secondary" onClick={onClose}>
        Done
      </button>
    </div>
  );
}
