fn main() {
    println!("stack: not built yet");
}
