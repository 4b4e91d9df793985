import path from 'node:path';
import { Application, ReflectionKind, TSConfigReader, TypeDocReader, type DeclarationReflection, type Reflection } from 'typedoc';
import { describe, expect, it } from 'vitest';
import { root } from './surface.js';

/**
 * Every optional field of an options-like type in the API reference (`*Options`,
 * `*Overrides`, `*Spec`, `*Query`, `*Update`) says what an absent value means with a
 * `@default` tag, so a reader of `npm run docs` never has to guess. Reads the same
 * project TypeDoc documents (typedoc.json), without writing any output.
 */

const OPTIONS_LIKE = /(Options|Overrides|Spec|Query|Update)$/;

/** The fields of an interface, or of a type alias to an object type or a union of them. */
function fieldsOf(reflection: DeclarationReflection): DeclarationReflection[] {
  if (reflection.kindOf(ReflectionKind.Interface)) return reflection.children ?? [];
  const type = reflection.type;
  if (type?.type === 'reflection') return type.declaration.children ?? [];
  if (type?.type === 'union') return type.types.flatMap((t) => (t.type === 'reflection' ? (t.declaration.children ?? []) : []));
  return [];
}

async function undocumentedDefaults(): Promise<string[]> {
  const app = await Application.bootstrapWithPlugins({ options: path.join(root, 'typedoc.json'), logLevel: 'Error' }, [
    new TypeDocReader(),
    new TSConfigReader(),
  ]);
  const project = await app.convert();
  if (!project) throw new Error('TypeDoc could not convert the project: run `npm run docs` to see why');
  const missing: string[] = [];
  for (const reflection of Object.values(project.reflections) as Reflection[]) {
    const decl = reflection as DeclarationReflection;
    if (!decl.kindOf(ReflectionKind.Interface | ReflectionKind.TypeAlias) || !OPTIONS_LIKE.test(decl.name)) continue;
    for (const field of fieldsOf(decl)) {
      if (field.flags.isOptional && !field.comment?.getTag('@default')) missing.push(`${decl.getFullName()}.${field.name}`);
    }
  }
  return [...new Set(missing)].sort();
}

describe('the API reference', () => {
  it('gives every optional option a @default', async () => {
    const missing = await undocumentedDefaults();
    expect(missing, `optional fields without a @default tag (say what absent means): ${missing.join(', ')}`).toEqual([]);
  }, 120_000);
});
