package protocol

//go:generate go run ./internal/protogen -spec spec/messages.spec -out messages_gen.go
