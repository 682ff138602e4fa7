mod route;
mod routes_file;
mod translate;
fn main() {}
