import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { PROJECT_ROOT } from "../support/synth";

/** Folders whose constructs and props make up the documented construct API. */
const DOCUMENTED_FOLDERS = ["lib/constructs", "lib/stacks"];
const CONSTRUCT_BASES = new Set(["Construct", "TerraformStack"]);
const EXAMPLE_FOLDER = path.join(PROJECT_ROOT, "__examples__");

interface Declaration {
  readonly file: string;
  readonly name: string;
  readonly node: ts.Node;
}

interface Example {
  readonly construct: string;
  readonly code: string;
}

const sourceFiles = DOCUMENTED_FOLDERS.flatMap((folder) =>
  readdirSync(path.join(PROJECT_ROOT, folder))
    .filter((name) => name.endsWith(".ts"))
    .map((name) => {
      const file = path.join(folder, name);
      return ts.createSourceFile(
        file,
        readFileSync(path.join(PROJECT_ROOT, file), "utf8"),
        ts.ScriptTarget.ES2022,
        true,
      );
    }),
);

function isExported(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some(
      (modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword,
    )
  );
}

function jsDocs(node: ts.Node): ts.JSDoc[] {
  return ts
    .getJSDocCommentsAndTags(node)
    .filter((entry): entry is ts.JSDoc => ts.isJSDoc(entry));
}

function description(node: ts.Node): string {
  return jsDocs(node)
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? "")
    .join("")
    .trim();
}

function tagNames(node: ts.Node): string[] {
  return jsDocs(node).flatMap((doc) =>
    (doc.tags ?? []).map((tag) => tag.tagName.text),
  );
}

function extendsConstruct(node: ts.ClassDeclaration): boolean {
  const heritage = node.heritageClauses?.find(
    (clause) => clause.token === ts.SyntaxKind.ExtendsKeyword,
  );
  return (
    heritage?.types.some((type) =>
      CONSTRUCT_BASES.has(type.expression.getText()),
    ) ?? false
  );
}

const interfaces = sourceFiles.flatMap((file) =>
  file.statements.filter(
    (node): node is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(node) && isExported(node),
  ),
);

const props: Declaration[] = interfaces.flatMap((declaration) =>
  declaration.members.filter(ts.isPropertySignature).map((member) => ({
    file: declaration.getSourceFile().fileName,
    name: `${declaration.name.text}.${member.name.getText()}`,
    node: member,
  })),
);

const constructs = sourceFiles.flatMap((file) =>
  file.statements.filter(
    (node): node is ts.ClassDeclaration =>
      ts.isClassDeclaration(node) && isExported(node) && extendsConstruct(node),
  ),
);

const attributes: Declaration[] = constructs.flatMap((declaration) =>
  declaration.members
    .filter(ts.isPropertyDeclaration)
    .filter(
      (member) =>
        !(ts.getModifiers(member) ?? []).some((modifier) =>
          [
            ts.SyntaxKind.PrivateKeyword,
            ts.SyntaxKind.ProtectedKeyword,
          ].includes(modifier.kind),
        ),
    )
    .map((member) => ({
      file: declaration.getSourceFile().fileName,
      name: `${declaration.name?.text}.${member.name.getText()}`,
      node: member,
    })),
);

/** Extracts the code of each fenced block in the construct's `@example` tags. */
function examplesOf(declaration: ts.ClassDeclaration): Example[] {
  const tags = jsDocs(declaration).flatMap((doc) =>
    (doc.tags ?? []).filter((tag) => tag.tagName.text === "example"),
  );
  return tags.flatMap((tag) => {
    const text = ts.getTextOfJSDocComment(tag.comment) ?? "";
    return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => ({
      construct: declaration.name?.text ?? "",
      code: match[1],
    }));
  });
}

/** Type-checks the examples as files of the project, with "proveit-stacks" mapped to lib/index.ts. */
function compileExamples(examples: Example[]): string[] {
  const files = new Map(
    examples.map((example) => [
      path.join(EXAMPLE_FOLDER, `${example.construct}.ts`),
      example.code,
    ]),
  );
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
    baseUrl: PROJECT_ROOT,
    paths: { "proveit-stacks": ["lib/index.ts"] },
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  host.fileExists = (file) => files.has(file) || ts.sys.fileExists(file);
  host.readFile = (file) => files.get(file) ?? ts.sys.readFile(file);
  host.getSourceFile = (file, language, onError) => {
    const text = files.get(file);
    return text === undefined
      ? getSourceFile(file, language, onError)
      : ts.createSourceFile(file, text, language, true);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter(
      (diagnostic) => diagnostic.file && files.has(diagnostic.file.fileName),
    )
    .map((diagnostic) => {
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(
        diagnostic.start ?? 0,
      );
      return `${path.basename(diagnostic.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
    });
}

test("scan finds constructs and props", () => {
  expect(constructs.map((declaration) => declaration.name?.text)).toEqual(
    expect.arrayContaining([
      "IgnitionGateway",
      "ServiceContainer",
      "SharedDatabase",
      "StackNginx",
      "TunnelStack",
      "PlatformStack",
    ]),
  );
  expect(props.length).toBeGreaterThan(50);
});

test("every prop has a description", () => {
  const undocumented = props
    .filter((prop) => description(prop.node) === "")
    .map((prop) => `${prop.file}: ${prop.name}`);
  expect(undocumented).toEqual([]);
});

test("optional props state @default", () => {
  const optional = props.filter(
    (prop) => (prop.node as ts.PropertySignature).questionToken !== undefined,
  );
  const missing = optional
    .filter((prop) => !tagNames(prop.node).includes("default"))
    .map((prop) => `${prop.file}: ${prop.name}`);
  expect(missing).toEqual([]);
});

test("construct attributes have descriptions", () => {
  const undocumented = attributes
    .filter((attribute) => description(attribute.node) === "")
    .map((attribute) => `${attribute.file}: ${attribute.name}`);
  expect(undocumented).toEqual([]);
});

test("every construct has an example", () => {
  const missing = constructs
    .filter((declaration) => examplesOf(declaration).length === 0)
    .map((declaration) => declaration.name?.text);
  expect(missing).toEqual([]);
});

test("examples compile", () => {
  const examples = constructs.flatMap(examplesOf);
  expect(examples.length).toBe(constructs.length);
  expect(compileExamples(examples)).toEqual([]);
});
