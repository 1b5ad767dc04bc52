// kazzle-env.d.ts, written by `kazzle init`: the types of kazzle.config.ts, so that
// editors and `tsc --noEmit` check the config. Commit it; `kazzle init --types` rewrites it.

declare module "kazzle" {
  /** An environment variable name: letters, digits and _, not starting with a digit. */
  export type SecretName = string;

  /** A Lambda function whose environment receives the component's secrets. */
  export interface LambdaTarget {
    functionName: string;
    region?: string;
  }

  /** One container of an ECS service: deploy registers a task definition revision. */
  export interface ECSTarget {
    cluster: string;
    service: string;
    container: string;
    region?: string;
  }

  /** SecureString parameters under a path prefix in SSM Parameter Store. */
  export interface SSMTarget {
    path: string;
    kmsKeyId?: string;
    region?: string;
  }

  export interface AWSTargets {
    lambda?: LambdaTarget;
    ecs?: ECSTarget;
    ssm?: SSMTarget;
  }

  /** A part that runs with secrets in its environment: `kazzle run`, `kazzle deploy`. */
  export interface ProcessComponent {
    kind: "process";
    secrets: SecretName[];
    deploy?: { aws: AWSTargets };
  }

  /** A browser bundle: only VITE_ secrets, inlined at build time, since anyone can read them. */
  export interface UIComponent {
    kind: "ui";
    /** The entry module or index.html, relative to the project folder. */
    entry: string;
    /** The output folder, relative to the project folder (default "dist"). */
    outDir?: string;
    /** The public path it is served from, as Vite's base: BASE_URL (default "/"). */
    base?: string;
    secrets: `VITE_${string}`[];
    /** The leak scan of the output: allow names secrets whose values it does not look for
     * (a common word such as "production" that any bundle may hold). */
    leakScan?: { allow: SecretName[] };
  }

  export type Component = ProcessComponent | UIComponent;

  export interface Config {
    /** The collection commands use when --collection is not given. */
    collection?: string;
    components: Record<string, Component>;
  }

  /** What a config written as a function receives. */
  export interface ConfigEnv {
    /** The environment slug: --env, or KAZZLE_ENV. */
    env: string;
  }

  export function defineConfig(config: Config): Config;
  export function defineConfig(config: Promise<Config>): Promise<Config>;
  export function defineConfig(config: (env: ConfigEnv) => Config | Promise<Config>): (env: ConfigEnv) => Config | Promise<Config>;
}
