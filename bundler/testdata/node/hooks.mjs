let dist;

export async function initialize(data) {
  dist = data.dist;
}

export async function resolve(specifier, context, next) {
  if (specifier.startsWith("/")) {
    return next(new URL(specifier.slice(1), dist).href, context);
  }
  return next(specifier, context);
}
